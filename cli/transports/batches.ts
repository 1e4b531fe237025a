/**
 * The large-batch route, `/batches`: for sets past what one request takes. The set is declared
 * (names, types, sizes), each image goes straight to S3 with the presigned POST form the API
 * gives for it — never through API Gateway or Lambda —, the run is started, its Map Run's counts
 * are followed, and the records are paged back in upload order, which is the order given.
 *
 * Forms are fetched a page at a time as the uploads need them: each expires 15 minutes after it
 * is issued, so fetching 100,000 of them up front would let the last ones expire on a slow line;
 * one that expires all the same is asked for again.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, ServiceError } from '../errors.ts';
import type { InputFile } from '../files.ts';
import { type ApiClient, countingStream, reasonOf } from '../http.ts';
import { declarationGroups, PUBLISHED_LIMITS } from '../limits.ts';
import { retryAfterMs } from './async.ts';
import { mediaTypeOf } from './form.ts';
import { perImage, type Transport } from './transport.ts';

interface UploadForm {
  index: number;
  url: string;
  fields: Record<string, string>;
}

interface Created {
  batchId: string;
  uploads: UploadForm[];
  /** The next page of forms (`…/uploads?cursor=n`), or null when they were all given. */
  nextUploads: string | null;
}

interface BatchView {
  status: string;
  progress?: { succeeded: number; failed: number; notUploaded?: number };
}

interface UploadsPage {
  uploads: UploadForm[];
  nextCursor: string | null;
}

interface ResultsPage {
  items: unknown[];
  nextCursor: string | null;
}

/** Records per results page: the most the API gives. */
const RESULTS_PAGE = 1000;
/** Attempts per upload when S3 or the connection fails in passing (5xx, reset). */
const UPLOAD_ATTEMPTS = 3;

/** Half a second, then doubling up to the service's Retry-After: a small batch is done in a
 * second or two, which a first wait of Retry-After (5 s) would more than double; a large one
 * is then polled as often as the service asks, no more. */
const pollDelay = (polls: number, headers: Headers) =>
  Math.min(500 * 2 ** polls, retryAfterMs(headers));

/** The cursor in a `…/uploads?cursor=n` link. The link's path holds the API's base path,
 * which the client's base URL already has, so only the cursor is taken from it. */
const cursorOf = (link: string | null) =>
  link === null ? null : new URL(link, 'http://api.invalid').searchParams.get('cursor');

/** Every form of the batch, in index order, fetching the next page only when it is needed. */
async function* formsOf(client: ApiClient, id: string, created: Created, signal: AbortSignal) {
  yield* created.uploads;
  for (let cursor = cursorOf(created.nextUploads); cursor !== null; ) {
    const page = (await client.request('GET', uploadsPath(id, cursor), { signal }))
      .body as UploadsPage;
    yield* page.uploads;
    cursor = page.nextCursor;
  }
}

const uploadsPath = (id: string, cursor: string | number) =>
  `/batches/${id}/uploads?cursor=${encodeURIComponent(String(cursor))}`;

/** S3's XML error, in one line: `AccessDenied: Invalid according to Policy: Policy expired.` */
const s3Error = (status: number, text: string) => {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return code ? `${status} ${code}${message ? `: ${message}` : ''}` : `${status}`;
};

class UploadFailed extends ServiceError {
  readonly expired: boolean;
  readonly transient: boolean;
  constructor(message: string, { expired = false, transient = false } = {}) {
    super(message);
    this.expired = expired;
    this.transient = transient;
  }
}

/** One browser-style form upload: the policy's fields, then the file, as one multipart body
 * from the platform's FormData, sent with its length (S3 takes no chunked POST) and counted. */
const postForm = async (
  form: UploadForm,
  file: InputFile,
  bytes: Uint8Array,
  { signal, onSent }: { signal: AbortSignal; onSent: (imageBytes: number) => void },
) => {
  const body = new FormData();
  for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
  const type = form.fields['Content-Type'] ?? mediaTypeOf(file.file);
  body.append('file', new Blob([bytes], { type }), path.basename(file.file));
  const encoded = new Request(form.url, { method: 'POST', body });
  const payload = new Uint8Array(await encoded.arrayBuffer());
  let res: Response;
  try {
    res = await fetch(form.url, {
      method: 'POST',
      headers: {
        'content-type': encoded.headers.get('content-type') ?? '',
        'content-length': String(payload.length),
      },
      // Bytes of the image, about: the form's few hundred bytes of fields are spread over it.
      body: countingStream(payload, (sent) =>
        onSent(Math.round((sent / payload.length) * bytes.length)),
      ),
      duplex: 'half',
      signal,
    } as RequestInit);
  } catch (error) {
    if (signal.aborted) throw error;
    throw new UploadFailed(`uploading ${file.file} to ${form.url} failed (${reasonOf(error)})`, {
      transient: true,
    });
  }
  const text = await res.text();
  if (res.ok) return;
  throw new UploadFailed(`uploading ${file.file}: S3 answered ${s3Error(res.status, text)}`, {
    expired: res.status === 403 && /expired/i.test(text),
    transient: res.status >= 500,
  });
};

/** The most DELETEs one cancellation sends: each deletes up to 10,000 objects and answers 202
 * while more are left, and a batch holds at most 100,000 images. */
const CANCEL_ATTEMPTS = 12;
/** How long each DELETE may take: the API's own limit is 29 s. */
const CANCEL_TIMEOUT_MS = 35_000;

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** DELETE /batches/{id} of a batch not started (Ctrl-C, or uploads given up on), repeated while
 * it answers 202: says what was deleted, or, if the API could not, that the uploads wait for
 * the bucket's lifecycle rule. Not bound to the run's signal, which is already aborted. */
const cancelBatch = async (client: ApiClient, id: string, uploaded: number) => {
  let deleted = 0;
  try {
    for (let attempt = 0; attempt < CANCEL_ATTEMPTS; attempt++) {
      const answer = await client.request('DELETE', `/batches/${id}`, {
        signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS),
      });
      deleted += (answer.body as { deleted?: number }).deleted ?? 0;
      if (answer.status !== 202)
        return `batch ${id} was cancelled: ${plural(deleted, 'uploaded image')} deleted`;
    }
    throw new ServiceError(`DELETE /batches/${id} still had objects to delete`);
  } catch (error) {
    return `batch ${id} was not started, and could not be cancelled (${(error as Error).message}): its ${plural(uploaded, 'uploaded image')} stay in the staging bucket until its lifecycle rule removes them (a day)`;
  }
};

/** One batch of the set: its files and where they sit in the set. */
interface Part {
  files: InputFile[];
  /** The set's index of the part's first file. */
  offset: number;
}

/** The set in batches whose declarations each fit one POST /batches (Lambda's event). */
const partsOf = (view: string, files: readonly InputFile[]): Part[] => {
  const images = files.map((f, index) => ({ index, image: declared(f) }));
  const groups = declarationGroups(
    view,
    images.map((i) => i.image),
    {
      maxBytes: PUBLISHED_LIMITS.maxDeclarationBytes,
      maxImages: PUBLISHED_LIMITS.maxBatchImages,
    },
  );
  let offset = 0;
  return groups.map((group) => {
    const part = { files: files.slice(offset, offset + group.length), offset };
    offset += group.length;
    return part;
  });
};

const declared = (f: InputFile) => ({
  filename: path.basename(f.file),
  contentType: mediaTypeOf(f.file),
  bytes: f.size,
});

export const batchesTransport: Transport = {
  /** A set whose declaration would not fit one request goes as several batches, one after the
   * other, each uploaded and started before the next; their records are concatenated in order. */
  async analyze({ view, files }, context) {
    const { client, progress, signal, concurrency } = context;
    const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
    progress.uploadStarted(
      files.length,
      totalBytes,
      `${client.url('/batches').href} (large batch: uploads straight to S3)`,
    );
    let uploaded = 0;
    let doneBytes = 0;
    const inFlight = new Map<number, number>();
    const report = () => {
      let sending = 0;
      for (const sent of inFlight.values()) sending += sent;
      progress.uploaded(uploaded, doneBytes + sending);
    };

    /** Declares, uploads and starts one batch; answers its id. */
    const send = async ({ files: part, offset }: Part) => {
      const created = (
        await client.request('POST', '/batches', {
          body: new TextEncoder().encode(JSON.stringify({ view, images: part.map(declared) })),
          headers: { 'content-type': 'application/json' },
          signal,
        })
      ).body as Created;
      const id = created.batchId;
      if (typeof id !== 'string')
        throw new ServiceError('POST /batches answered without a batchId');
      let uploadedHere = 0;
      const cancel = () => cancelBatch(client, id, uploadedHere);
      context.onCancelable?.(cancel);
      // Ends every upload of this batch, on Ctrl-C or when one fails: none may land after the
      // DELETE has listed what to delete.
      const stopUploads = new AbortController();
      const uploading = AbortSignal.any([signal, stopUploads.signal]);

      const uploadOne = async (form: UploadForm) => {
        const file = part[form.index];
        if (!file) throw new ServiceError(`POST /batches gave a form for image ${form.index}`);
        const bytes = new Uint8Array(await readFile(file.path));
        if (bytes.length !== file.size) {
          throw new CliError(`${file.file} changed size while the batch was sent`);
        }
        const key = offset + form.index;
        const onSent = (sent: number) => {
          inFlight.set(key, sent);
          report();
        };
        let current = form;
        for (let attempt = 1; ; attempt++) {
          try {
            await postForm(current, file, bytes, { signal: uploading, onSent });
            break;
          } catch (error) {
            if (!(error instanceof UploadFailed) || attempt >= UPLOAD_ATTEMPTS) throw error;
            if (!error.expired && !error.transient) throw error;
            await sleep(250 * 2 ** attempt, undefined, { signal: uploading });
            if (error.expired) {
              const page = await client.request('GET', uploadsPath(id, form.index), {
                signal: uploading,
              });
              current = (page.body as UploadsPage).uploads?.[0] ?? current;
            }
          }
        }
        inFlight.delete(key);
        uploaded += 1;
        uploadedHere += 1;
        doneBytes += file.size;
        report();
      };

      const forms = formsOf(client, id, created, uploading);
      const worker = async () => {
        // Async generators queue concurrent next() calls: each form goes to one worker.
        for (let next = await forms.next(); !next.done; next = await forms.next()) {
          await uploadOne(next.value);
        }
      };
      const workers = Array.from({ length: Math.min(concurrency, part.length) }, worker);
      try {
        await Promise.all(workers);
      } catch (error) {
        stopUploads.abort();
        await Promise.allSettled(workers);
        if (signal.aborted || !(error instanceof CliError)) throw error;
        throw new ServiceError(`${error.message}; ${await cancel()}`);
      }
      if (uploadedHere !== part.length) {
        throw new ServiceError(`the API gave forms for ${uploadedHere} of ${part.length} images`);
      }
      await client.request('POST', `/batches/${id}/start`, { signal });
      context.onRun?.(`batch ${id} (${client.url(`/batches/${id}`).href})`);
      return id;
    };

    const ids: string[] = [];
    for (const part of partsOf(view, files)) ids.push(await send(part));

    progress.analysisStarted(files.length);
    let finished = 0;
    for (const id of ids) {
      const self = `/batches/${id}`;
      let polls = 0;
      for (;;) {
        const polled = await client.request('GET', self, { signal });
        const batch = polled.body as BatchView;
        const p = batch.progress;
        progress.analysisStatus(
          batch.status,
          p && finished + p.succeeded + p.failed + (p.notUploaded ?? 0),
        );
        if (batch.status === 'SUCCEEDED') {
          finished += (p?.succeeded ?? 0) + (p?.failed ?? 0) + (p?.notUploaded ?? 0);
          break;
        }
        if (batch.status !== 'RUNNING') {
          throw new ServiceError(`batch ${id} ended ${batch.status} (${client.url(self).href})`);
        }
        await sleep(pollDelay(polls++, polled.headers), undefined, { signal });
      }
    }

    const items: unknown[] = [];
    for (const id of ids) {
      for (let cursor: string | null = '0'; cursor !== null; ) {
        const page = (
          await client.request(
            'GET',
            `/batches/${id}/results?limit=${RESULTS_PAGE}&cursor=${encodeURIComponent(cursor)}`,
            { signal },
          )
        ).body as ResultsPage;
        items.push(...page.items);
        cursor = page.nextCursor;
      }
    }
    return perImage(items, files);
  },
};
