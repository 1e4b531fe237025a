/**
 * The workflow graph drawn from the ASL, as SVG.
 *
 * Layout is elkjs (the Eclipse Layout Kernel's layered algorithm): a Map's ItemProcessor is a
 * graph inside the Map's box, like the AWS console draws it, and ELK lays out such nested
 * graphs with edges routed around them (dagre's compound-graph support is weaker). It runs
 * here on the server, once per definition, so pages carry only the finished SVG.
 */

import type { ELK as Elk, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import { esc } from './html.ts';

interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next?: string }[];
  Catch?: { Next?: string }[];
  ItemProcessor?: AslMachine;
  Iterator?: AslMachine;
  Branches?: AslMachine[];
}
interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
}

/** What the page shows on a state: its class (the color) and a short line of counts. */
export interface StateLook {
  status: string;
  note?: string;
}

interface Box {
  id: string;
  name?: string;
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  children: Box[];
}
interface Line {
  points: { x: number; y: number }[];
  kind: 'next' | 'catch';
}
export interface Layout {
  width: number;
  height: number;
  boxes: Box[];
  lines: Line[];
}

const CHAR_WIDTH = 7.2;
const NODE_HEIGHT = 44;
const HEADER = 34;

/** ELK ids must be unique across nested graphs: state names are unique in an ASL document. */
const nodeId = (name: string) => `state:${name}`;

const toElk = (
  machine: AslMachine,
  prefix: string,
): { nodes: ElkNode[]; edges: ElkExtendedEdge[] } => {
  const nodes: ElkNode[] = [];
  const edges: ElkExtendedEdge[] = [];
  const start = `${prefix}start`;
  const end = `${prefix}end`;
  nodes.push({ id: start, width: 60, height: 26 }, { id: end, width: 60, height: 26 });
  const edge = (from: string, to: string, kind: 'next' | 'catch') =>
    edges.push({ id: `${kind}:${from}->${to}:${edges.length}`, sources: [from], targets: [to] });
  edge(start, nodeId(machine.StartAt), 'next');
  for (const [name, state] of Object.entries(machine.States)) {
    const id = nodeId(name);
    const processor = state.ItemProcessor ?? state.Iterator;
    const width = Math.max(150, Math.ceil(name.length * CHAR_WIDTH) + 36);
    if (processor) {
      const inner = toElk(processor, `${name}/`);
      nodes.push({
        id,
        children: inner.nodes,
        edges: inner.edges,
        layoutOptions: {
          'elk.padding': `[top=${HEADER},left=16,bottom=16,right=16]`,
          // Room for the title and the counts line under the inner graph.
          'elk.nodeSize.constraints': 'MINIMUM_SIZE',
          'elk.nodeSize.minimum': `(${Math.max(230, width)}, 0)`,
        },
      });
    } else {
      nodes.push({ id, width, height: NODE_HEIGHT });
    }
    const targets = [state.Next, state.Default, ...(state.Choices ?? []).map((c) => c.Next)];
    for (const target of targets) if (target) edge(id, nodeId(target), 'next');
    for (const c of state.Catch ?? []) if (c.Next) edge(id, nodeId(c.Next), 'catch');
    if (state.End || state.Type === 'Succeed' || state.Type === 'Fail') edge(id, end, 'next');
  }
  return { nodes, edges };
};

/** ELK, loaded on the first layout: its bundle takes tens of milliseconds to load, which a
 * runtime that never draws a graph (tests, benchmarks) need not pay. */
let elk: Promise<Elk> | undefined;
const loadElk = () => {
  elk ??= import('elkjs/lib/elk.bundled.js').then((module) => {
    // The bundle is CommonJS: Node hands over module.exports, the ELK class, as the default.
    const ELK = module.default as unknown as new () => Elk;
    return new ELK();
  });
  return elk;
};
const layouts = new Map<string, Promise<Layout>>();

/** The laid-out graph of a definition; computed once per definition text. */
export const layoutOf = (definition: string): Promise<Layout> => {
  let layout = layouts.get(definition);
  if (!layout) {
    layout = compute(JSON.parse(definition) as AslMachine);
    layouts.set(definition, layout);
  }
  return layout;
};

const compute = async (machine: AslMachine): Promise<Layout> => {
  const { nodes, edges } = toElk(machine, '');
  const root: ElkNode = {
    id: 'root',
    children: nodes,
    edges,
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.layered.spacing.nodeNodeBetweenLayers': '34',
      'elk.spacing.nodeNode': '30',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.padding': '[top=12,left=12,bottom=12,right=12]',
    },
  };
  const graph: ElkNode = await (await loadElk()).layout(root);
  const lines: Line[] = [];
  const states = (machine: AslMachine) => machine.States;
  const collect = (node: ElkNode, dx: number, dy: number, scope: Record<string, AslState>): Box[] =>
    (node.children ?? []).map((child) => {
      const x = dx + (child.x ?? 0);
      const y = dy + (child.y ?? 0);
      const name = child.id.startsWith('state:') ? child.id.slice('state:'.length) : undefined;
      const state = name ? scope[name] : undefined;
      const processor = state?.ItemProcessor ?? state?.Iterator;
      for (const e of child.edges ?? []) addLines(e, x, y);
      return {
        id: child.id,
        name,
        type: name ? (state?.Type ?? 'Task') : child.id.endsWith('start') ? 'Start' : 'End',
        x,
        y,
        width: child.width ?? 0,
        height: child.height ?? 0,
        children: collect(child, x, y, processor ? states(processor) : {}),
      };
    });
  const addLines = (e: ElkExtendedEdge, dx: number, dy: number) => {
    for (const s of e.sections ?? []) {
      lines.push({
        kind: e.id.startsWith('catch:') ? 'catch' : 'next',
        points: [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => ({
          x: p.x + dx,
          y: p.y + dy,
        })),
      });
    }
  };
  for (const e of graph.edges ?? []) addLines(e, 0, 0);
  const boxes = collect(graph, 0, 0, machine.States);
  return { width: graph.width ?? 0, height: graph.height ?? 0, boxes, lines };
};

const drawBox = (box: Box, look: (name: string) => StateLook | undefined): string => {
  if (!box.name) {
    const label = box.type === 'Start' ? 'Start' : 'End';
    return `<g class="terminal"><rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" rx="13"/><text x="${box.x + box.width / 2}" y="${box.y + box.height / 2 + 4}">${label}</text></g>`;
  }
  const state = look(box.name);
  const status = state?.status ?? 'not-run';
  const inner = box.children.map((child) => drawBox(child, look)).join('');
  const container = box.children.length > 0;
  const titleY = container ? box.y + 20 : box.y + 19;
  const note = state?.note
    ? `<text class="note" x="${box.x + box.width / 2}" y="${container ? box.y + box.height - 5 : box.y + 35}">${esc(state.note)}</text>`
    : '';
  return `<g class="state s-${esc(status)}${container ? ' container' : ''}" data-state="${esc(box.name)}" data-type="${esc(box.type)}" tabindex="0" role="button" aria-label="${esc(`${box.name}: ${status}`)}"><rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" rx="6"/><text class="title" x="${box.x + box.width / 2}" y="${titleY}">${esc(box.name)}</text>${note}</g>${inner}`;
};

/** The SVG of a laid-out definition, each state colored by what `look` says of it. */
export const renderGraph = (layout: Layout, look: (name: string) => StateLook | undefined) => {
  const lines = layout.lines
    .map(
      (l) =>
        `<polyline class="edge ${l.kind}" points="${l.points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}" marker-end="url(#arrow)"/>`,
    )
    .join('');
  return `<svg class="graph" viewBox="0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}" width="${Math.ceil(layout.width)}" height="${Math.ceil(layout.height)}" xmlns="http://www.w3.org/2000/svg"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>${layout.boxes.map((b) => drawBox(b, look)).join('')}${lines}</svg>`;
};
