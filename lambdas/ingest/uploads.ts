/** The images of one request: the `image` parts of a form, or the whole body of a raw upload. */
import {
  EmptyBodyError,
  PayloadTooLargeError,
  UnprocessableError,
  UnsupportedMediaTypeError,
} from './errors.ts';
import { type IngestEvent, mediaTypeOf } from './event.ts';
import { IMAGE_FIELD, imageParts, type MultipartBody } from './multipart.ts';

export interface Upload {
  /** The form field ("image"), or null for a raw body. */
  name: string | null;
  filename: string | null;
  contentType: string | null;
  content: Buffer;
}

export interface ParsedUploads {
  multipart: boolean;
  uploads: Upload[];
}

const RAW_TYPES = /^(image\/[\w.+-]+|application\/octet-stream)$/;

/** Filenames and part types travel with every record through the workflow: bounded, like a
 * file system's names, so that a batch's results always fit Step Functions' 256 KiB. */
export const MAX_PART_TEXT_LENGTH = 255;

const bounded = (value: string | undefined, what: string): string | null => {
  if (value === undefined || value === '') return null;
  if (value.length > MAX_PART_TEXT_LENGTH) {
    throw new UnprocessableError(
      'FIELD_TOO_LONG',
      `An image part's ${what} is ${value.length} characters long; at most ${MAX_PART_TEXT_LENGTH} are accepted.`,
    );
  }
  return value;
};

/** Size of the body as sent: base64 inflates it by a third on its way through API Gateway. */
export const bodyBytes = (event: IngestEvent): number => {
  if (typeof event.body !== 'string') return 0;
  return event.isBase64Encoded
    ? Buffer.byteLength(event.body, 'base64')
    : Buffer.byteLength(event.body);
};

export const assertBodySize = (event: IngestEvent, maxBytes: number) => {
  const size = bodyBytes(event);
  if (size > maxBytes) {
    throw new PayloadTooLargeError(
      `The request body is ${size} bytes; the limit is ${maxBytes} bytes.`,
      {
        details: { limit: maxBytes },
      },
    );
  }
};

export const uploadsOf = (event: IngestEvent): ParsedUploads => {
  const contentType = event.headers?.['content-type'];
  const mediaType = mediaTypeOf(contentType);

  if (mediaType === 'multipart/form-data') {
    const body = event.body;
    if (typeof body !== 'object' || body === null) {
      throw new UnprocessableError(
        'MALFORMED_MULTIPART',
        'The multipart/form-data body could not be parsed.',
      );
    }
    const uploads = imageParts(body as MultipartBody).map((part) => ({
      name: IMAGE_FIELD,
      filename: bounded(part.filename, 'filename'),
      contentType: bounded(part.mimetype, 'content type'),
      content: part.content,
    }));
    if (uploads.length === 0) {
      throw new UnprocessableError(
        'NO_IMAGE',
        `The form has no "${IMAGE_FIELD}" part: send each image as ${IMAGE_FIELD}=@file.`,
      );
    }
    return { multipart: true, uploads };
  }

  if (RAW_TYPES.test(mediaType)) {
    if (typeof event.body !== 'string' || event.body.length === 0) throw new EmptyBodyError();
    // Without binary media types API Gateway hands over text; bytes that were not UTF-8 are lost.
    const content = Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    return {
      multipart: false,
      uploads: [{ name: null, filename: null, contentType: mediaType, content }],
    };
  }

  throw new UnsupportedMediaTypeError(contentType);
};
