/** Query-string parameters of the paged routes, refused in the house error shape when bad. */
import { InvalidBatchError } from './errors.ts';
import type { IngestEvent } from './event.ts';

export const queryInteger = (
  event: IngestEvent,
  name: string,
  bounds: { min: number; max: number; default: number },
): number => {
  const raw = event.queryStringParameters?.[name];
  if (raw === undefined || raw === null || raw === '') return bounds.default;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < bounds.min || value > bounds.max) {
    throw new InvalidBatchError(
      400,
      'INVALID_QUERY',
      `${name} must be an integer from ${bounds.min} to ${bounds.max}.`,
      { parameter: name },
    );
  }
  return value;
};
