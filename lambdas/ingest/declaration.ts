/**
 * POST /batches' body: `{"view", "images": [{"filename", "contentType", "bytes"}, …]}`, checked
 * field by field so that every refusal names what is wrong (JSON, house error shape).
 */
import { BATCH_LIMITS } from '../shared/config.ts';
import { VIEWS, type View } from '../shared/workflow.ts';
import type { DeclaredImage } from './batch-store.ts';
import { EmptyBodyError, InvalidBatchError } from './errors.ts';
import { type IngestEvent, mediaTypeOf } from './event.ts';
import { MAX_PART_TEXT_LENGTH } from './uploads.ts';

const invalid = (message: string, field: string) =>
  new InvalidBatchError(422, 'INVALID_BATCH', message, { field });

/** A filename or content type: it rides with every record, so it is bounded as form parts are. */
const text = (value: unknown, field: string, required: boolean): string | null => {
  if ((value === undefined || value === null) && !required) return null;
  if (typeof value !== 'string' || value === '' || value.length > MAX_PART_TEXT_LENGTH)
    throw invalid(`${field} must be a string of 1 to ${MAX_PART_TEXT_LENGTH} characters.`, field);
  return value;
};

const image = (value: unknown, index: number): DeclaredImage => {
  const at = `images[${index}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${at} must be an object {filename, contentType, bytes}.`, at);
  const { filename, contentType, bytes } = value as Record<string, unknown>;
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0)
    throw invalid(`${at}.bytes must be the image's size in bytes.`, `${at}.bytes`);
  if (bytes > BATCH_LIMITS.maxImageBytes) {
    throw new InvalidBatchError(
      413,
      'IMAGE_TOO_LARGE',
      `${at} declares ${bytes} bytes; an image may have at most ${BATCH_LIMITS.maxImageBytes}.`,
      { index, limit: BATCH_LIMITS.maxImageBytes },
    );
  }
  return {
    filename: text(filename, `${at}.filename`, false),
    contentType: text(contentType, `${at}.contentType`, true) as string,
    bytes,
  };
};

export const parseDeclaration = (event: IngestEvent): { view: View; images: DeclaredImage[] } => {
  const contentType = event.headers?.['content-type'];
  if (mediaTypeOf(contentType) !== 'application/json') {
    throw new InvalidBatchError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${contentType ? `"${contentType}"` : '(none)'} is not accepted: declare a batch as application/json.`,
    );
  }
  const body = event.body;
  if (typeof body !== 'string' || body === '') throw new EmptyBodyError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.isBase64Encoded ? Buffer.from(body, 'base64').toString() : body);
  } catch {
    throw new InvalidBatchError(400, 'INVALID_JSON', 'The body is not valid JSON.');
  }
  const { view, images } = (parsed ?? {}) as Record<string, unknown>;
  if (!VIEWS.includes(view as View))
    throw invalid(`view must be one of ${VIEWS.join(', ')}.`, 'view');
  if (!Array.isArray(images) || images.length === 0)
    throw invalid('images must be a list of at least one image.', 'images');
  if (images.length > BATCH_LIMITS.maxImages) {
    throw new InvalidBatchError(
      413,
      'TOO_MANY_IMAGES',
      `At most ${BATCH_LIMITS.maxImages} images per batch.`,
      { limit: BATCH_LIMITS.maxImages },
    );
  }
  return { view: view as View, images: images.map(image) };
};
