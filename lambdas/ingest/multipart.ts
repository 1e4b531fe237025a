/**
 * multipart/form-data through @middy/http-multipart-body-parser, with what it leaves to us:
 * - it keeps repeated fields newest first, so images are put back in upload order;
 * - busboy drops parts past its limits silently, so only `image` parts count as files and the
 *   file limit sits one above the image limit: one too many is seen and refused, never lost;
 * - its content-type pattern refuses valid boundaries (quoted, or with other characters), so
 *   the media type is checked here and busboy parses the boundary.
 */
import type middy from '@middy/core';
import httpMultipartBodyParser from '@middy/http-multipart-body-parser';
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
      if (mediaTypeOf(request.event.headers?.['content-type']) !== 'multipart/form-data') return;
      await parser.before?.(request as never);
    },
  };
};

/** The `image` parts in the order they were sent. */
export const imageParts = (body: MultipartBody): Attachment[] => {
  const value = body[IMAGE_FIELD];
  if (value === undefined) return [];
  const parts = Array.isArray(value) ? [...value].reverse() : [value];
  return parts.filter((p): p is Attachment => typeof p === 'object' && Buffer.isBuffer(p.content));
};
