/**
 * multipart/form-data through @middy/http-multipart-body-parser, with what it leaves to us:
 * - it keeps repeated fields newest first, so images are put back in upload order;
 * - busboy drops parts past its limits silently, so only `image` parts count as files and the
 *   file limit sits one above the image limit: one too many is seen and refused, never lost;
 * - its content-type pattern refuses valid boundaries (quoted, or with other characters), so
 *   the media type is checked here and busboy parses the boundary;
 * - it listens for errors on busboy but not on each file stream, so a body cut off inside a
 *   file part raises an uncaught 'error' ("Part terminated early") that would crash the
 *   Lambda runtime: a body without its close delimiter is refused before it is parsed.
 */
import type middy from '@middy/core';
import httpMultipartBodyParser from '@middy/http-multipart-body-parser';
import { EmptyBodyError, UnprocessableError } from './errors.ts';
import { type IngestEvent, mediaTypeOf } from './event.ts';

export const IMAGE_FIELD = 'image';

export interface Attachment {
  filename?: string;
  mimetype?: string;
  encoding?: string;
  content: Buffer;
  truncated?: boolean;
}

export type MultipartBody = Record<string, Attachment | Attachment[] | string | string[]>;

export interface MultipartLimits {
  maxImages: number;
  maxImageBytes: number;
}

export const multipartForm = ({
  maxImages,
  maxImageBytes,
}: MultipartLimits): middy.MiddlewareObj<IngestEvent> => {
  const parser = httpMultipartBodyParser({
    disableContentTypeCheck: true,
    busboy: {
      isPartAFile: (fieldName: string | undefined) => fieldName === IMAGE_FIELD,
      limits: { files: maxImages + 1, fileSize: maxImageBytes, parts: Number.MAX_SAFE_INTEGER },
    },
  });
  return {
    before: async (request) => {
      const contentType = request.event.headers?.['content-type'];
      if (mediaTypeOf(contentType) !== 'multipart/form-data') return;
      if (!request.event.body) throw new EmptyBodyError();
      if (!hasCloseDelimiter(request.event, contentType)) {
        throw new UnprocessableError(
          'MALFORMED_MULTIPART',
          'The multipart/form-data body is incomplete: its closing boundary is missing.',
        );
      }
      await parser.before?.(request as never);
    },
  };
};

const BOUNDARY = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i;

/** Base64 characters decoded from the end of the body first: a multiple of 4, so that the
 * tail decodes on its own, and far more than a close delimiter and a usual epilogue. */
const TAIL_CHARS = 4096;

/** RFC 2046: a multipart body ends with `--boundary--`, after which only an epilogue may come.
 * The end is looked at first; the whole body only when an epilogue is unusually long. */
export const hasCloseDelimiter = (event: IngestEvent, contentType: string | undefined) => {
  const match = BOUNDARY.exec(contentType ?? '');
  const boundary = match?.[1] ?? match?.[2];
  const body = event.body;
  if (!boundary || typeof body !== 'string') return false;
  const delimiter = `--${boundary}--`;
  const encoding = event.isBase64Encoded ? 'base64' : 'utf8';
  const tailStart = Math.max(0, body.length - TAIL_CHARS);
  const tail = Buffer.from(body.slice(tailStart - (tailStart % 4)), encoding);
  if (tail.includes(delimiter)) return true;
  return tailStart > 0 && Buffer.from(body, encoding).includes(delimiter);
};

/** The `image` parts in the order they were sent. */
export const imageParts = (body: MultipartBody): Attachment[] => {
  const value = body[IMAGE_FIELD];
  if (value === undefined) return [];
  const parts = Array.isArray(value) ? [...value].reverse() : [value];
  return parts.filter((p): p is Attachment => typeof p === 'object' && Buffer.isBuffer(p.content));
};
