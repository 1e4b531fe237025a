/** HTML helpers for the console: escaping, JSON for display, the page shell. */
import { CLIENT_SCRIPT, STYLE } from './assets.ts';

export const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Strings longer than this (an image's base64, a long cause) show their start and length. */
const LONG = 160;
/** Arrays show this many items, then how many more there are (a batch has up to 200). */
const MANY = 10;

/** A string cut to its start and its length when long (an error's cause, a base64 image). */
export const short = (value: string) =>
  value.length <= LONG
    ? value
    : `${value.slice(0, 48)}… [${value.length.toLocaleString('en-US')} characters]`;

/**
 * A JSON value made readable in one pass: JSON text inside it (history details carry inputs
 * and outputs as text) is parsed, and long strings are cut to their start and their length.
 * One pass matters: cutting twice would report the length of the first cut's placeholder.
 * The whole value is a click away (the `full` links) and always in the API's answers.
 */
export const readable = (value: unknown): unknown => {
  if (typeof value === 'string') {
    const trimmed = value.trimStart();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return readable(JSON.parse(value));
      } catch {
        // Not JSON after all: a plain string.
      }
    }
    return short(value);
  }
  if (Array.isArray(value)) {
    if (value.length <= MANY) return value.map(readable);
    return [...value.slice(0, MANY).map(readable), `… ${value.length - MANY} more items`];
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, readable(v)]));
  }
  return value;
};

/** Pretty, cut, escaped JSON for a <pre>: `text` is JSON text or a value. */
export const jsonBlock = (text: unknown) => {
  if (text === undefined) return '<pre class="json empty">—</pre>';
  // Short arrays of numbers (a shape) on one line.
  const pretty = JSON.stringify(readable(text), null, 2).replace(
    /\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g,
    (_, items: string) => `[${items.replace(/\s+/g, ' ')}]`,
  );
  return `<pre class="json">${esc(pretty)}</pre>`;
};

export const duration = (start: Date, stop?: Date) => {
  if (!stop) return '…';
  const ms = stop.getTime() - start.getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
};

export const time = (d: Date | undefined) =>
  d
    ? `<time datetime="${d.toISOString()}">${d.toISOString().replace('T', ' ').slice(0, 23)}</time>`
    : '—';

export const statusBadge = (status: string) =>
  `<span class="badge b-${esc(status.toLowerCase().replace(/_/g, '-'))}">${esc(status)}</span>`;

export const link = (
  path: string,
  params: Record<string, string | number | undefined>,
  label: string,
) => {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== '') query.set(k, String(v));
  const q = query.toString();
  return `<a href="${esc(q ? `${path}?${q}` : path)}">${label}</a>`;
};

export const page = (
  title: string,
  body: string,
  options: { live?: boolean; crumbs?: string } = {},
) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)} · Step Functions (local)</title><style>${STYLE}</style></head>
<body${options.live ? ' data-live="true"' : ''}><header class="top"><a class="home" href="/">Step Functions <small>local</small></a>${options.crumbs ?? ''}</header>
<main id="main">${body}</main><script>${CLIENT_SCRIPT}</script></body></html>`;
