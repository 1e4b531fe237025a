/**
 * The service's published limits (README, "Limits"). The CLI is a client of the HTTP API and
 * cannot read the service's configuration, so it plans with the documented defaults; a
 * deployment configured otherwise still has the last word, and its 413 reaches the user.
 */
export const PUBLISHED_LIMITS = {
  /** Images per synchronous request (`MAX_IMAGES_SYNC`): the 29 s API Gateway timeout. */
  maxImagesSync: 50,
  /** Images per asynchronous request (`MAX_IMAGES_ASYNC`). */
  maxImagesAsync: 200,
  /** Request body "in practice about 4.4 MB": Lambda's 6 MiB event carries the body in base64
   * (a third larger), with the rest of the event beside it. */
  maxRequestBytes: 4_400_000,
  /** Images one large batch (`POST /batches`) may declare. */
  maxBatchImages: 100_000,
  /** Bytes one image of a large batch may have (its presigned form holds it to that). */
  maxImageBytes: 50 * 1024 * 1024,
  /** Bytes of one large batch's declaration (POST /batches) as it sits in the Lambda event: a
   * JSON body rides there as a JSON string, its quotes escaped, within Lambda's 6 MiB event;
   * 64 KiB are left for the rest of the event (headers, request context). About 69 bytes an
   * image without a filename, 81 with a 12-character one: some 90,000 or 77,000 images. */
  maxDeclarationBytes: 6 * 1024 * 1024 - 64 * 1024,
} as const;

export type Limits = { [K in keyof typeof PUBLISHED_LIMITS]: number };

/** Room for one multipart part's boundary and headers around its bytes (a generous bound:
 * planning must not let a set through that the real body would not fit). */
const PART_HEADROOM_BYTES = 512;

/** What a multipart upload of these files weighs, about. */
export const requestBytes = (files: readonly { file: string; size: number }[]) =>
  files.reduce((sum, f) => sum + f.size + Buffer.byteLength(f.file) + PART_HEADROOM_BYTES, 0);

/** Bytes `text` takes inside a JSON string (quotes, backslashes and controls escaped). */
const escapedBytes = (text: string) => Buffer.byteLength(JSON.stringify(text)) - 2;

/**
 * Splits a large batch's declared images into consecutive groups, each the longest run whose
 * declaration (`{"view", "images": [...]}`, in the Lambda event) fits `maxBytes` and holds at
 * most `maxImages`. The sizes are added image by image: JSON escapes character by character,
 * so a declaration's escaped size is the sum of its pieces'.
 */
export const declarationGroups = <T>(
  view: string,
  images: readonly T[],
  { maxBytes, maxImages }: { maxBytes: number; maxImages: number },
): T[][] => {
  // The body's string in the event: its two quotes, the envelope, commas between images.
  const envelope = 2 + escapedBytes(JSON.stringify({ view, images: [] }));
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = envelope;
  for (const image of images) {
    const own = escapedBytes(JSON.stringify(image));
    // One more image: itself and the comma before it.
    if (group.length && (bytes + 1 + own > maxBytes || group.length >= maxImages)) {
      groups.push(group);
      group = [];
      bytes = envelope;
    }
    bytes += own + (group.length ? 1 : 0);
    group.push(image);
  }
  if (group.length) groups.push(group);
  return groups;
};

/** What a declaration takes in the Lambda event: its JSON text as a JSON string. */
export const declarationEventBytes = (declaration: unknown) =>
  Buffer.byteLength(JSON.stringify(JSON.stringify(declaration)));
