/**
 * A read-only local view of every run, Express included (in AWS the console shows Express
 * runs from their CloudWatch logs): the list at `/`, one execution at `/execution?arn=…`.
 */
import type { Execution, LocalStepFunctions } from './engine.ts';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const pretty = (json: string | undefined) => {
  if (json === undefined) return '';
  try {
    return esc(JSON.stringify(JSON.parse(json), elide, 2));
  } catch {
    return esc(json);
  }
};

/** Inline images are long base64 strings: show their size, not the bytes. */
function elide(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (key === 'inline') return `<${value.length} base64 characters>`;
  // History events carry state input and output as JSON text: elide inside it too.
  if ((key === 'input' || key === 'output') && value.length > 200) {
    try {
      return JSON.parse(value, elide);
    } catch {
      return value;
    }
  }
  return value;
}

const page = (title: string, body: string) => `<!doctype html><html><head><meta charset="utf-8">
<title>${esc(title)}</title><style>
body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
.SUCCEEDED{color:#1a7f37}.FAILED,.TIMED_OUT,.ABORTED{color:#cf222e}.RUNNING{color:#9a6700}
pre{background:#f6f8fa;padding:.5rem;max-height:24rem;overflow:auto;white-space:pre-wrap}</style></head>
<body><p><a href="/">Executions</a></p><h1>${esc(title)}</h1>${body}</body></html>`;

const duration = (e: Execution) =>
  e.stopDate ? `${e.stopDate.getTime() - e.startDate.getTime()} ms` : '…';

export const renderList = (sfn: LocalStepFunctions) => {
  const rows = sfn
    .all()
    .map(
      (
        e,
      ) => `<tr><td><a href="/execution?arn=${encodeURIComponent(e.executionArn)}">${esc(e.name)}</a></td>
<td>${esc(e.type)}</td><td class="${e.status}">${e.status}</td><td>${e.startDate.toISOString()}</td><td>${duration(e)}</td></tr>`,
    )
    .join('');
  const machines = [...sfn.machines.values()]
    .map((m) => `<li>${esc(m.name)} (${m.type}) — <code>${esc(m.arn)}</code></li>`)
    .join('');
  return page(
    'Executions',
    `<ul>${machines}</ul><table><tr><th>Name</th><th>Type</th><th>Status</th><th>Started</th><th>Duration</th></tr>${rows}</table>`,
  );
};

export const renderExecution = (e: Execution) => {
  const events = e.history.events
    .map((ev) => {
      const { timestamp, type, id, previousEventId: _p, ...details } = ev;
      return `<tr><td>${id}</td><td>${esc(type)}</td><td>${timestamp.toISOString()}</td><td><pre>${esc(JSON.stringify(details, elide, 1))}</pre></td></tr>`;
    })
    .join('');
  return page(
    `${e.name} — ${e.status}`,
    `<p><code>${esc(e.executionArn)}</code> · ${e.type} · ${duration(e)}</p>
${e.error ? `<p class="FAILED">${esc(e.error)}: ${esc(e.cause)}</p>` : ''}
<h2>Input</h2><pre>${pretty(e.input)}</pre><h2>Output</h2><pre>${pretty(e.output)}</pre>
<h2>Events</h2><table><tr><th>#</th><th>Type</th><th>Time</th><th>Details</th></tr>${events}</table>`,
  );
};
