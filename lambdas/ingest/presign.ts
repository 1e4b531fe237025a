/**
 * Presigned S3 POST forms for a batch's uploads: each form's policy fixes the object's key,
 * its Content-Type and a content-length-range of exactly the declared size, for 15 minutes,
 * so a client cannot upload more (or anything else) than it declared.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { DeclaredImage } from './batch-store.ts';

export interface UploadForm {
  index: number;
  /** Where to POST the form (multipart/form-data): the fields first, then the image as `file`. */
  url: string;
  fields: Record<string, string>;
}

export const presignUpload = async (
  s3: S3Client,
  {
    bucket,
    key,
    index,
    image,
    expiresSeconds,
  }: {
    bucket: string;
    key: string;
    index: number;
    image: DeclaredImage;
    expiresSeconds: number;
  },
): Promise<UploadForm> => {
  const { url, fields } = await createPresignedPost(s3, {
    Bucket: bucket,
    Key: key,
    Fields: { 'Content-Type': image.contentType },
    Conditions: [['content-length-range', image.bytes, image.bytes]],
    Expires: expiresSeconds,
  });
  return { index, url, fields };
};
