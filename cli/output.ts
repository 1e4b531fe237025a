/**
 * Results as the user reads them, one per file in the order given: `{"file", …the view's
 * fields}` as a JSON array, JSON lines, CSV (RFC 4180) or a table for a terminal.
 */
import type { View } from './transports/transport.ts';

export const FORMATS = ['table', 'json', 'jsonl', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export type OutputRecord = { file: string } & Record<string, unknown>;

interface AnalysisRecord {
  shape?: number[];
  nbytes?: number;
  format?: string;
  error?: RecordError;
}

interface RecordError {
  code: string;
  message: string;
  retryable?: boolean;
}

/** An answer that is an error, not a shape or a size: the large-batch route's `{error}` for an
 * image /shape or /nbytes could not analyze (never uploaded, or the platform failed). */
const errorAnswer = (answer: unknown): RecordError | undefined =>
  typeof answer === 'object' && answer !== null && !Array.isArray(answer)
    ? (answer as AnalysisRecord).error
    : undefined;

/** `{file, shape}`, `{file, nbytes}` or `{file, …the full record}`; `{file, error}` where the
 * service could not analyze the image. */
export const toRecords = (view: View, files: readonly string[], answers: readonly unknown[]) =>
  files.map((file, i): OutputRecord => {
    const answer = answers[i];
    if (view === 'analyze') return { file, ...(answer as object) };
    const error = errorAnswer(answer);
    return error ? { file, error } : { file, [view]: answer };
  });

export const errorOf = (record: OutputRecord) => (record as AnalysisRecord).error;

/** Not analyzed for the service's own reasons (a platform failure after retries, an upload that
 * never arrived), as opposed to an image that is not one: worth running again. */
export const isNotAnalyzed = (record: OutputRecord) => {
  const error = errorOf(record);
  return error?.retryable === true || error?.code === 'NOT_UPLOADED';
};

/** Unreadable: `[]` for /shape and /nbytes (as the original answered), `error` for /analyze. */
export const isUnreadable = (view: View, record: OutputRecord) =>
  view === 'analyze'
    ? record.error !== undefined
    : Array.isArray(record[view]) && (record[view] as unknown[]).length === 0;

const shapeText = (shape: unknown) =>
  Array.isArray(shape) && shape.length > 0 ? JSON.stringify(shape) : '';

const errorText = (view: View, record: OutputRecord) => {
  if (view === 'analyze') {
    // The code only: the message is in the JSON and CSV outputs, too long for a table.
    return errorOf(record)?.code ?? '';
  }
  return errorOf(record)?.code ?? (isUnreadable(view, record) ? 'unreadable' : '');
};

const TABLE_COLUMNS: Record<View, [string, (r: OutputRecord) => string][]> = {
  shape: [
    ['file', (r) => r.file],
    ['shape', (r) => shapeText(r.shape)],
    ['error', (r) => errorText('shape', r)],
  ],
  nbytes: [
    ['file', (r) => r.file],
    ['size (kB)', (r) => (typeof r.nbytes === 'number' ? String(r.nbytes) : '')],
    ['error', (r) => errorText('nbytes', r)],
  ],
  analyze: [
    ['file', (r) => r.file],
    ['shape', (r) => shapeText(r.shape)],
    ['size (kB)', (r) => (typeof r.nbytes === 'number' ? String(r.nbytes) : '')],
    ['format', (r) => String(r.format ?? '')],
    ['error', (r) => errorText('analyze', r)],
  ],
};

const table = (view: View, records: readonly OutputRecord[]) => {
  const columns = TABLE_COLUMNS[view];
  const rows = [
    columns.map(([title]) => title),
    ...records.map((r) => columns.map(([, cell]) => cell(r))),
  ];
  const widths = columns.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd();
  const [head = [], ...body] = rows;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
};

/** The /analyze fields worth a spreadsheet column, in the record's order. */
const ANALYZE_CSV = [
  'shape',
  'nbytes',
  'format',
  'mediaType',
  'mode',
  'width',
  'height',
  'channels',
  'bytes',
  'bitDepth',
  'hasAlpha',
  'isPalette',
  'colourSpace',
  'orientation',
  'pages',
  'isProgressive',
  'contentType',
] as const;

const csvCell = (value: unknown) => {
  const text =
    value === undefined || value === null
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

const csv = (view: View, records: readonly OutputRecord[]) => {
  const rows: unknown[][] =
    view === 'analyze'
      ? [
          ['file', ...ANALYZE_CSV, 'errorCode', 'errorMessage'],
          ...records.map((r) => {
            const error = errorOf(r);
            return [r.file, ...ANALYZE_CSV.map((k) => r[k]), error?.code, error?.message];
          }),
        ]
      : [['file', view, 'error'], ...records.map((r) => [r.file, r[view], errorText(view, r)])];
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n');
};

export const render = (format: Format, view: View, records: readonly OutputRecord[]) => {
  switch (format) {
    case 'json':
      // One array, one record a line: valid JSON that still reads (and diffs) line by line.
      return records.length === 0
        ? '[]'
        : `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]`;
    case 'jsonl':
      return records.map((r) => JSON.stringify(r)).join('\n');
    case 'csv':
      return csv(view, records);
    case 'table':
      return table(view, records);
  }
};
