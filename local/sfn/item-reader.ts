/**
 * ItemReader: where a DISTRIBUTED Map gets its items when they are not in its input. Read with
 * the same @aws-sdk/client-s3 calls as in AWS; only the endpoint differs locally.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { namedError } from '../functions.ts';

const GET_OBJECT = 'arn:aws:states:::s3:getObject';
const LIST_OBJECTS = 'arn:aws:states:::s3:listObjectsV2';

export interface ItemReaderDefinition {
  Resource: string;
  Parameters?: Record<string, unknown>;
  ReaderConfig?: { InputType?: string; MaxItems?: number; MaxItemsPath?: string };
}

/** What the local engine reads; anything else is refused when the machine is created. */
export const checkItemReader = (reader: ItemReaderDefinition): void => {
  const type = reader.ReaderConfig?.InputType;
  if (reader.Resource === GET_OBJECT && (type === undefined || type === 'JSON' || type === 'JSONL'))
    return;
  if (reader.Resource === LIST_OBJECTS && type === undefined) return;
  throw new Error(
    `ItemReader ${reader.Resource} with InputType ${type ?? '(none)'} is not supported by the local Step Functions (JSON and JSONL objects, and listObjectsV2, are)`,
  );
};

const failed = (message: string) => namedError('States.ItemReaderFailed', message);

/** The items, in the object's order; `maxItems` as ReaderConfig.MaxItems caps them. */
export const readItems = async (
  s3: S3Client,
  reader: ItemReaderDefinition,
  parameters: { Bucket?: unknown; Key?: unknown; Prefix?: unknown; VersionId?: unknown },
  maxItems: number | undefined,
): Promise<unknown[]> => {
  const cap = (items: unknown[]) => (maxItems ? items.slice(0, maxItems) : items);
  if (typeof parameters.Bucket !== 'string') throw failed('ItemReader Parameters need a Bucket');
  try {
    if (reader.Resource === LIST_OBJECTS) return cap(await listObjects(s3, parameters, maxItems));
    const object = await s3.send(
      new GetObjectCommand({
        Bucket: parameters.Bucket,
        Key: String(parameters.Key),
        VersionId: typeof parameters.VersionId === 'string' ? parameters.VersionId : undefined,
      }),
    );
    const text = (await object.Body?.transformToString('utf8')) ?? '';
    return cap(reader.ReaderConfig?.InputType === 'JSONL' ? jsonLines(text) : jsonArray(text));
  } catch (error) {
    if (error instanceof Error && error.name === 'States.ItemReaderFailed') throw error;
    throw failed(`Reading the items failed: ${error instanceof Error ? error.name : error}`);
  }
};

const jsonArray = (text: string): unknown[] => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw failed('The item source is not valid JSON');
  }
  if (!Array.isArray(parsed)) throw failed('The item source is not a JSON array');
  return parsed;
};

/** JSON Lines: one JSON value per line; blank lines (a trailing newline) are not items. */
const jsonLines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw failed(`Line ${i + 1} of the item source is not valid JSON`);
      }
    });

/** One item per object, shaped as the ItemReader page documents (LastModified in epoch
 * seconds, the ETag with its quotes). */
const listObjects = async (
  s3: S3Client,
  parameters: { Bucket?: unknown; Prefix?: unknown },
  maxItems: number | undefined,
) => {
  const items: unknown[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: String(parameters.Bucket),
        Prefix: typeof parameters.Prefix === 'string' ? parameters.Prefix : undefined,
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? []) {
      items.push({
        Etag: o.ETag,
        Key: o.Key,
        LastModified: Math.floor((o.LastModified?.getTime() ?? 0) / 1000),
        Size: o.Size,
        StorageClass: o.StorageClass ?? 'STANDARD',
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && !(maxItems && items.length >= maxItems));
  return items;
};
