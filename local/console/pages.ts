/**
 * The console's pages: the runs list, a run (graph, state panel, events, definition), a Map's
 * iterations, and a Map Run. Server-rendered HTML; long lists are paged and payloads cut, so a
 * 100-image run's page stays a few kilobytes until the reader asks for more.
 */
import type { LocalStepFunctions } from '../sfn/engine.ts';
import type { Execution } from '../sfn/execution.ts';
import { OPERATIONS } from '../sfn/protocol.ts';
import { layoutOf, renderGraph } from './graph.ts';
import { duration, esc, jsonBlock, link, page, short, statusBadge, time } from './html.ts';
import { buildModel, type Iteration, stateSummary, type Visit } from './model.ts';

const RUNS_PER_PAGE = 25;
/** DescribeMapRun's item and execution counts a reader needs (the redrive ones are not run). */
const COUNTED = ['pending', 'running', 'succeeded', 'failed', 'timedOut', 'aborted', 'total'];
const EVENTS_PER_PAGE = 100;
const ITERATIONS_PER_PAGE = 50;
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

const int = (value: string | null, fallback: number) => {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
};

const machineName = (sfn: LocalStepFunctions, arn: string) => sfn.machines.get(arn)?.name ?? arn;
const runHref = (arn: string) => `/execution?arn=${encodeURIComponent(arn)}`;
const crumb = (html: string) => `<span class="crumb">${html}</span>`;

const option = (value: string, current: string, label = value) =>
  `<option value="${esc(value)}"${value === current ? ' selected' : ''}>${esc(label)}</option>`;

export const runsPage = (sfn: LocalStepFunctions, query: URLSearchParams) => {
  const status = query.get('status') ?? '';
  const type = query.get('type') ?? '';
  const machine = query.get('machine') ?? '';
  const offset = int(query.get('offset'), 0);
  const runs = sfn
    .all()
    .filter(
      (e) =>
        (!status || e.status === status) &&
        (!type || e.type === type) &&
        (!machine || e.stateMachineArn === machine),
    );
  const shown = runs.slice(offset, offset + RUNS_PER_PAGE);
  const rows = shown
    .map(
      (e) => `<tr><td><a href="${esc(runHref(e.executionArn))}">${esc(e.name)}</a></td>
<td>${statusBadge(e.status)}</td><td>${esc(machineName(sfn, e.stateMachineArn))}</td><td>${esc(e.type)}</td>
<td>${time(e.startDate)}</td><td>${time(e.stopDate)}</td><td class="num">${duration(e.startDate, e.stopDate)}</td></tr>`,
    )
    .join('');
  const machines = [...sfn.machines.values()];
  const filters = `<form class="filters" method="get" action="/">
<label>Status<select name="status">${option('', status, 'Any')}${STATUSES.map((s) => option(s, status)).join('')}</select></label>
<label>Type<select name="type">${option('', type, 'Any')}${option('STANDARD', type)}${option('EXPRESS', type)}</select></label>
<label>State machine<select name="machine">${option('', machine, 'Any')}${machines.map((m) => option(m.arn, machine, `${m.name} (${m.type})`)).join('')}</select></label>
<button type="submit">Filter</button></form>`;
  const params = { status, type, machine };
  const pager = `<div class="pager"><span class="muted">${runs.length === 0 ? 'No runs' : `${offset + 1}–${offset + shown.length} of ${runs.length}`}</span>
${offset > 0 ? link('/', { ...params, offset: Math.max(0, offset - RUNS_PER_PAGE) }, '← Newer') : ''}
${offset + RUNS_PER_PAGE < runs.length ? link('/', { ...params, offset: offset + RUNS_PER_PAGE }, 'Older →') : ''}</div>`;
  const body = `<h1>Executions</h1>
<p class="muted">Standard and Express runs of this local Step Functions (in AWS, Express runs are seen through their CloudWatch logs). Newest first.</p>
${filters}<section id="live"><table><thead><tr><th>Name</th><th>Status</th><th>State machine</th><th>Type</th><th>Started</th><th>Ended</th><th>Duration</th></tr></thead>
<tbody>${rows}</tbody></table>${pager}</section>`;
  // The first page follows new runs; any page follows runs it shows still running.
  const live = offset === 0 || shown.some((e) => e.status === 'RUNNING');
  return page('Executions', body, { live });
};

const legend = `<div class="legend">${[
  'succeeded',
  'caught',
  'failed',
  'running',
  'aborted',
  'not-run',
]
  .map((s) => `<span class="badge b-${s}">${s.replace('-', ' ')}</span>`)
  .join('')}</div>`;

const countsNote = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s.toLowerCase()}`)
    .join(' · ');

/**
 * The machine an execution ran: one of the engine's, or, for a Map Run's child execution,
 * what DescribeStateMachineForExecution answers (the AWS call the console makes for it).
 */
const machineOf = async (
  sfn: LocalStepFunctions,
  e: Execution,
): Promise<{ name: string; definition: string } | undefined> => {
  const own = sfn.machines.get(e.stateMachineArn);
  if (own) return own;
  const describe = OPERATIONS.DescribeStateMachineForExecution;
  if (!describe) return undefined;
  try {
    const found = (await describe(sfn, { executionArn: e.executionArn })) as {
      name?: string;
      definition?: string;
    };
    return found.definition ? { name: found.name ?? '', definition: found.definition } : undefined;
  } catch {
    return undefined;
  }
};

export const runPage = async (sfn: LocalStepFunctions, e: Execution) => {
  const machine = await machineOf(sfn, e);
  const events = e.history.events;
  const model = buildModel(events, e.status !== 'RUNNING');
  const byState = Map.groupBy(model.visits, (v) => v.name);
  const inChildren = machine ? childStates(JSON.parse(machine.definition)) : new Set<string>();
  const runNotes = new Map<string, string>();
  for (const { state, arn } of model.mapRuns) runNotes.set(state, await mapRunNote(sfn, arn));
  const graph = machine
    ? renderGraph(await layoutOf(machine.definition), (name) => {
        const visits = byState.get(name) ?? [];
        const { status, counts } = stateSummary(visits);
        const runNote = runNotes.get(name);
        if (runNote) return { status, note: runNote };
        if (inChildren.has(name)) return { status: 'not-run', note: 'runs in child executions' };
        const map = model.maps.get(name);
        if (map) return { status, note: iterationNote(map.iterations, map.length) };
        return { status, note: visits.length > 1 ? countsNote(counts) : undefined };
      })
    : '';
  const arn = encodeURIComponent(e.executionArn);
  const maps = [...model.maps.values()]
    .map(
      (m) =>
        `<li>${link('/map', { arn: e.executionArn, state: m.name }, esc(m.name))} — ${esc(iterationNote(m.iterations, m.length))}</li>`,
    )
    .join('');
  const mapRuns = model.mapRuns
    .map(
      (r) =>
        `<li>${esc(r.state)}: ${link('/map-run', { arn: r.arn }, esc(r.arn.split(':').at(-1)))} — ${esc(runNotes.get(r.state) ?? '')}</li>`,
    )
    .join('');
  const live = `<section id="live">
<h1>${esc(e.name)} ${statusBadge(e.status)}</h1>
<div class="facts"><div><span>State machine</span>${esc(machine?.name ?? e.stateMachineArn)}</div>
<div><span>Type</span>${esc(e.type)}</div><div><span>Started</span>${time(e.startDate)}</div>
<div><span>Ended</span>${time(e.stopDate)}</div><div><span>Duration</span>${duration(e.startDate, e.stopDate)}</div>
<div><span>Events</span>${events.length}</div></div>
<div class="facts"><div style="grid-column:1/-1"><span>Execution ARN</span><code>${esc(e.executionArn)}</code></div></div>
${e.error || e.cause ? `<div class="error"><strong>${esc(e.error ?? 'Error')}</strong> ${esc(short(e.cause ?? ''))}</div>` : ''}
<div class="run"><div><div class="canvas">${graph}</div>${legend}
${maps ? `<h2>Map states</h2><ul>${maps}</ul>` : ''}${mapRuns ? `<h2>Map Runs</h2><ul>${mapRuns}</ul>` : ''}</div>
<div class="panel" id="panel" data-frame data-src="/fragment/state?arn=${esc(arn)}"><p class="muted">Select a state in the graph to see its input and output.</p></div></div>
<h2>Execution input and output</h2><div class="run"><div><h3>Input <small>${link('/raw', { arn: e.executionArn, part: 'input' }, 'full JSON')}</small></h3>${jsonBlock(e.input)}</div>
<div><h3>Output ${e.output === undefined ? '' : `<small>${link('/raw', { arn: e.executionArn, part: 'output' }, 'full JSON')}</small>`}</h3>${jsonBlock(e.output)}</div></div>
</section>`;
  const body = `${live}
<details id="events" data-src="/fragment/events?arn=${esc(arn)}"><summary>Events (${events.length})</summary><div data-frame><p class="muted">Loading…</p></div></details>
<details><summary>Definition</summary>${machine ? `<pre class="json">${esc(JSON.stringify(JSON.parse(machine.definition), null, 2))}</pre>` : ''}</details>`;
  return page(e.name, body, {
    live: e.status === 'RUNNING',
    crumbs: crumb(esc(machine?.name ?? 'execution')),
  });
};

/** States inside DISTRIBUTED Maps: they run in the Map Run's child executions, not here. */
const childStates = (definition: AslLike, into = new Set<string>(), inside = false) => {
  for (const [name, state] of Object.entries(definition.States ?? {})) {
    if (inside) into.add(name);
    const processor = state.ItemProcessor ?? state.Iterator;
    const distributed = state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
    if (processor) childStates(processor, into, inside || distributed);
  }
  return into;
};
interface AslLike {
  States?: Record<
    string,
    { ItemProcessor?: AslLike & { ProcessorConfig?: { Mode?: string } }; Iterator?: AslLike }
  >;
}

/** A Map Run's item counts, as DescribeMapRun reports them, when the engine serves it. */
const mapRunNote = async (sfn: LocalStepFunctions, mapRunArn: string) => {
  const describe = OPERATIONS.DescribeMapRun;
  if (!describe) return 'Map Run';
  try {
    const run = (await describe(sfn, { mapRunArn })) as { itemCounts?: Record<string, number> };
    const counts = run.itemCounts ?? {};
    const parts = ['succeeded', 'failed', 'running', 'pending', 'timedOut', 'aborted']
      .filter((k) => (counts[k] ?? 0) > 0)
      .map((k) => `${counts[k]} ${k}`);
    return `${counts.total ?? 0} items${parts.length ? `: ${parts.join(' · ')}` : ''}`;
  } catch {
    return 'Map Run (no longer kept)';
  }
};

const iterationNote = (iterations: Iteration[], length?: number) => {
  const by = Object.groupBy(iterations, (i) => i.status);
  const parts = Object.entries(by).map(([s, list]) => `${list?.length ?? 0} ${s.toLowerCase()}`);
  const n = length ?? iterations.length;
  return `${n} iteration${n === 1 ? '' : 's'}${parts.length ? `: ${parts.join(' · ')}` : ''}`;
};

const visitBlock = (
  v: Visit,
) => `<div class="facts"><div><span>Status</span>${statusBadge(v.status)}</div>
<div><span>Started</span>${time(v.start)}</div><div><span>Duration</span>${duration(v.start, v.stop)}</div>
${v.retries ? `<div><span>Retries</span>${v.retries}</div>` : ''}</div>
${v.error ? `<div class="error"><strong>${esc(v.error)}</strong> ${esc(short(v.cause ?? ''))}</div>` : ''}
<h4>Input</h4>${jsonBlock(v.input)}<h4>Output</h4>${jsonBlock(v.output)}`;

/** The panel for one state: its input and output; inside a Map, one iteration at a time. */
export const statePanel = (e: Execution, name: string, query: URLSearchParams) => {
  const model = buildModel(e.history.events, e.status !== 'RUNNING');
  const visits = model.visits.filter((v) => v.name === name);
  const heading = `<h3>${esc(name)}</h3>`;
  if (visits.length === 0) return `${heading}<p class="muted">This state has not run.</p>`;
  const inMap = visits[0]?.iteration;
  if (!inMap) {
    const v = visits.at(-1) as Visit;
    const map = model.maps.get(name);
    const more = map
      ? `<p>${esc(iterationNote(map.iterations, map.length))} — ${link('/map', { arn: e.executionArn, state: name }, 'see every iteration')}</p>`
      : '';
    const runs = model.mapRuns
      .filter((r) => r.state === name)
      .map((r) => link('/map-run', { arn: r.arn }, 'its Map Run'))
      .join(', ');
    const distributed = runs ? `<p>Distributed: see ${runs} and its child executions.</p>` : '';
    return `${heading}<p class="muted">${esc(v.type)} state</p>${more}${distributed}${visitBlock(v)}`;
  }
  const indexes = [...new Set(visits.map((v) => v.iteration?.index ?? 0))].sort((a, b) => a - b);
  const wanted = int(query.get('iteration'), indexes[0] ?? 0);
  const index = indexes.includes(wanted) ? wanted : (indexes[0] ?? 0);
  const v = visits.findLast((x) => x.iteration?.index === index) as Visit;
  const arn = e.executionArn;
  const picker = `<form class="frag" action="/fragment/state" method="get"><input type="hidden" name="arn" value="${esc(arn)}"><input type="hidden" name="state" value="${esc(name)}">
<label>Iteration <input type="number" name="iteration" min="${indexes[0] ?? 0}" max="${indexes.at(-1) ?? 0}" value="${index}" style="width:6em"></label> <button type="submit">Show</button>
<span class="muted">ran in ${indexes.length} iteration${indexes.length === 1 ? '' : 's'} of ${esc(inMap.map)} — ${link('/map', { arn, state: inMap.map }, 'all iterations')}</span></form>`;
  return `${heading}<p class="muted">${esc(v.type)} state, inside Map “${esc(inMap.map)}”</p>${picker}${visitBlock(v)}`;
};

export const mapPage = (e: Execution, name: string, query: URLSearchParams) => {
  const model = buildModel(e.history.events, e.status !== 'RUNNING');
  const map = model.maps.get(name);
  const status = query.get('status') ?? '';
  const offset = int(query.get('offset'), 0);
  const all = (map?.iterations ?? []).toSorted((a, b) => a.index - b.index);
  const iterations = all.filter((i) => !status || i.status === status);
  const shown = iterations.slice(offset, offset + ITERATIONS_PER_PAGE);
  const caught = (i: Iteration) => (i.status === 'SUCCEEDED' && i.error ? ' (caught)' : '');
  const rows = shown
    .map(
      (
        i,
      ) => `<tr id="iteration-${i.index}"><td class="num">${i.index}</td><td>${statusBadge(i.status)}</td>
<td>${time(i.start)}</td><td class="num">${duration(i.start, i.stop)}</td>
<td><details class="inline"><summary>input</summary>${jsonBlock(i.input)}</details></td>
<td><details class="inline"><summary>output</summary>${jsonBlock(i.output)}</details></td>
<td>${i.error ? `<strong>${esc(i.error)}</strong>${esc(caught(i))}<br><span class="muted">${esc(short(i.cause ?? ''))}</span>` : ''}</td></tr>`,
    )
    .join('');
  const params = { arn: e.executionArn, state: name, status };
  const filter = `<form class="filters" method="get" action="/map"><input type="hidden" name="arn" value="${esc(e.executionArn)}"><input type="hidden" name="state" value="${esc(name)}">
<label>Status<select name="status">${option('', status, 'Any')}${['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED'].map((s) => option(s, status)).join('')}</select></label><button type="submit">Filter</button></form>`;
  const pager = `<div class="pager"><span class="muted">${iterations.length === 0 ? 'No iterations' : `${offset + 1}–${offset + shown.length} of ${iterations.length}`}</span>
${offset > 0 ? link('/map', { ...params, offset: Math.max(0, offset - ITERATIONS_PER_PAGE) }, '← Previous') : ''}
${offset + ITERATIONS_PER_PAGE < iterations.length ? link('/map', { ...params, offset: offset + ITERATIONS_PER_PAGE }, 'Next →') : ''}</div>`;
  const body = `<h1>${esc(name)} <span class="muted">Map iterations</span></h1>
<p>${map ? esc(iterationNote(all, map.length)) : 'This Map state has not run.'} · ${link('/execution', { arn: e.executionArn }, `back to ${esc(e.name)}`)}</p>
${filter}<section id="live"><table><thead><tr><th>#</th><th>Status</th><th>Started</th><th>Duration</th><th>Input</th><th>Output</th><th>Error</th></tr></thead><tbody>${rows}</tbody></table>${pager}</section>`;
  return page(`${name} — ${e.name}`, body, {
    live: e.status === 'RUNNING',
    crumbs: crumb(link('/execution', { arn: e.executionArn }, esc(e.name))),
  });
};

/** One page of the event table, loaded when the reader opens it. */
export const eventsFragment = (e: Execution, query: URLSearchParams) => {
  const events = e.history.events;
  const offset = int(query.get('offset'), 0);
  const rows = events
    .slice(offset, offset + EVENTS_PER_PAGE)
    .map((ev) => {
      const { timestamp, type, id, previousEventId, ...details } = ev;
      const elapsed = timestamp.getTime() - e.startDate.getTime();
      const body = Object.keys(details).length
        ? `<details class="inline"><summary>details</summary>${jsonBlock(details)}</details>`
        : '';
      return `<tr><td class="num">${id}</td><td class="num">${previousEventId}</td><td>${esc(type)}</td><td class="num">${elapsed} ms</td><td>${body}</td></tr>`;
    })
    .join('');
  const nav = (to: number, label: string) =>
    `<a class="frag" href="${esc(`/fragment/events?arn=${encodeURIComponent(e.executionArn)}&offset=${to}`)}">${label}</a>`;
  const pager = `<div class="pager"><span class="muted">${events.length === 0 ? 'No events' : `${offset + 1}–${Math.min(events.length, offset + EVENTS_PER_PAGE)} of ${events.length}`}</span>
${offset > 0 ? nav(Math.max(0, offset - EVENTS_PER_PAGE), '← Previous') : ''}${offset + EVENTS_PER_PAGE < events.length ? nav(offset + EVENTS_PER_PAGE, 'Next →') : ''}</div>`;
  return `<table><thead><tr><th>ID</th><th>Previous</th><th>Type</th><th>Since start</th><th>Details</th></tr></thead><tbody>${rows}</tbody></table>${pager}`;
};

/**
 * A Distributed Map's Map Run, read through the engine's DescribeMapRun and ListExecutions
 * (mapRunArn) operations — the API the AWS console reads — when the engine serves them.
 */
export const mapRunPage = async (
  sfn: LocalStepFunctions,
  mapRunArn: string,
  query: URLSearchParams,
) => {
  const describe = OPERATIONS.DescribeMapRun;
  const list = OPERATIONS.ListExecutions;
  if (!describe) {
    return page(
      'Map Run',
      `<h1>Map Run</h1><p><code>${esc(mapRunArn)}</code></p><p class="muted">This local engine does not serve DescribeMapRun: it does not run Distributed Map states.</p>`,
    );
  }
  const run = (await describe(sfn, { mapRunArn })) as {
    status?: string;
    executionArn?: string;
    startDate?: Date;
    stopDate?: Date;
    maxConcurrency?: number;
    toleratedFailurePercentage?: number;
    toleratedFailureCount?: number;
    itemCounts?: Record<string, number>;
    executionCounts?: Record<string, number>;
  };
  const children = list
    ? ((await list(sfn, {
        mapRunArn,
        maxResults: RUNS_PER_PAGE,
        ...(query.get('nextToken') ? { nextToken: query.get('nextToken') } : {}),
      })) as {
        nextToken?: string;
        executions?: {
          executionArn: string;
          name: string;
          status: string;
          startDate: Date;
          stopDate?: Date;
        }[];
      })
    : {};
  const counts = (c: Record<string, number> | undefined) =>
    Object.entries(c ?? {})
      .filter(([k]) => COUNTED.includes(k))
      .map(([k, n]) => `<div><span>${esc(k)}</span>${n}</div>`)
      .join('');
  const rows = (children.executions ?? [])
    .map(
      (x) =>
        `<tr><td><a href="${esc(runHref(x.executionArn))}">${esc(x.name)}</a></td><td>${statusBadge(x.status)}</td><td>${time(x.startDate)}</td><td class="num">${duration(x.startDate, x.stopDate)}</td></tr>`,
    )
    .join('');
  const body = `<h1>Map Run ${statusBadge(run.status ?? 'RUNNING')}</h1><p><code>${esc(mapRunArn)}</code></p>
<div class="facts"><div><span>Parent execution</span>${run.executionArn ? link('/execution', { arn: run.executionArn }, esc(run.executionArn.split(':').at(-1))) : '—'}</div>
<div><span>Started</span>${time(run.startDate)}</div><div><span>Duration</span>${run.startDate ? duration(run.startDate, run.stopDate) : '—'}</div>
<div><span>Max concurrency</span>${run.maxConcurrency ?? '—'}</div><div><span>Tolerated failures</span>${run.toleratedFailurePercentage ?? 0}% / ${run.toleratedFailureCount ?? 0}</div></div>
<h2>Items</h2><div class="facts">${counts(run.itemCounts)}</div><h2>Child executions</h2><div class="facts">${counts(run.executionCounts)}</div>
<table><thead><tr><th>Name</th><th>Status</th><th>Started</th><th>Duration</th></tr></thead><tbody>${rows}</tbody></table>
<div class="pager">${query.get('nextToken') ? link('/map-run', { arn: mapRunArn }, '← First') : ''}${children.nextToken ? link('/map-run', { arn: mapRunArn, nextToken: children.nextToken }, 'Next →') : ''}</div>`;
  return page('Map Run', body, {
    live: run.status === 'RUNNING',
    crumbs: run.executionArn
      ? crumb(
          link('/execution', { arn: run.executionArn }, esc(run.executionArn.split(':').at(-1))),
        )
      : '',
  });
};
