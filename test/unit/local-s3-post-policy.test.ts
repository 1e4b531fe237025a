/**
 * The local S3's POST policy check (local/s3-post-policy.ts) on forms made by
 * @aws-sdk/s3-presigned-post, as the ingest makes them: what S3 refuses, it refuses.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { describe, expect, it } from 'vitest';
import { LOCAL_S3_CREDENTIALS } from '../../local/s3.ts';
import { checkPostPolicy } from '../../local/s3-post-policy.ts';

const s3 = new S3Client({
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:1',
  forcePathStyle: true,
  credentials: LOCAL_S3_CREDENTIALS,
});
const BUCKET = 'image-batch-staging';
const options = { bucket: BUCKET, secretAccessKey: LOCAL_S3_CREDENTIALS.secretAccessKey };

const formFor = async (conditions: unknown[] = [['content-length-range', 10, 10]]) => {
  const { fields } = await createPresignedPost(s3, {
    Bucket: BUCKET,
    Key: 'batches/b/uploads/0',
    Fields: { 'Content-Type': 'image/png' },
    Conditions: conditions as never,
    Expires: 900,
  });
  return new Map(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v]));
};

const refusal = (run: () => void) => {
  try {
    run();
  } catch (error) {
    const { status, code, message } = error as { status: number; code: string; message: string };
    return { status, code, message };
  }
  return undefined;
};

describe('the local S3 POST policy check', () => {
  it('lets in a form as it was signed, and no form without a signed policy', async () => {
    expect(refusal(() => checkPostPolicy(new Map(), 0, options))).toMatchObject({ status: 403 });
    const fields = await formFor();
    expect(refusal(() => checkPostPolicy(fields, 10, options))).toBeUndefined();
  });

  it('refuses a form past its expiration, as AccessDenied', async () => {
    const fields = await formFor();
    const later = Date.now() + 901_000;
    expect(refusal(() => checkPostPolicy(fields, 10, { ...options, now: later }))).toEqual({
      status: 403,
      code: 'AccessDenied',
      message: 'Invalid according to Policy: Policy expired.',
    });
  });

  it('refuses a file outside the content-length-range', async () => {
    const fields = await formFor();
    expect(refusal(() => checkPostPolicy(fields, 11, options))).toMatchObject({
      status: 400,
      code: 'EntityTooLarge',
    });
    expect(refusal(() => checkPostPolicy(fields, 9, options))).toMatchObject({
      status: 400,
      code: 'EntityTooSmall',
    });
  });

  it('refuses a field no condition names, and a starts-with that does not hold', async () => {
    const fields = await formFor([['starts-with', '$x-amz-meta-tag', 'ok-']]);
    fields.set('x-amz-meta-tag', 'ok-1');
    expect(refusal(() => checkPostPolicy(fields, 10, options))).toBeUndefined();
    fields.set('x-amz-meta-tag', 'bad');
    expect(refusal(() => checkPostPolicy(fields, 10, options))?.message).toContain(
      'Policy Condition failed: ["starts-with", "$x-amz-meta-tag", "ok-"]',
    );
    const plain = await formFor();
    plain.set('acl', 'public-read');
    expect(refusal(() => checkPostPolicy(plain, 10, options))?.message).toBe(
      'Invalid according to Policy: Extra input fields: acl',
    );
    plain.delete('acl');
    expect(
      refusal(() => checkPostPolicy(plain, 10, { ...options, bucket: 'other' }))?.message,
    ).toContain('"$bucket"');
  });

  it('refuses a policy signed with another secret', async () => {
    const fields = await formFor();
    expect(
      refusal(() => checkPostPolicy(fields, 10, { ...options, secretAccessKey: 'x' })),
    ).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
  });
});
