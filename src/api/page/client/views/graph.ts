/**
 * The statechart: the layout drawn as SVG, one `.node` per state (nested in its parallel state's
 * box) and one `.edge` per transition, then recoloured after every poll from the derived
 * statuses. Colours live in the stylesheet; this only sets classes and data-status.
 */
import { clear, h, s } from '../dom.js';
import { GRAPH } from '../graph-metrics.js';
import { cut, errorText } from '../format.js';
import { labelWidth } from '../edge-routes.js';
import { kindText, layoutStates, type Layout } from '../layout.js';
import { NODE_STATUSES, STATUS_LABELS, edgeTaken, nodeDetail, type Statuses } from '../status.js';
import type { EdgeKind } from '../transitions.js';
import type { StateDescription, WorkflowGraph } from '../types.js';

interface NodeRef {
  g: SVGGElement;
  title: SVGTitleElement;
  detail: SVGTextElement;
  state: StateDescription;
  width: number;
  container: boolean;
}

interface EdgeRef {
  g: SVGGElement;
  path: SVGPathElement;
  from: string;
  to: string;
  kind: EdgeKind;
}

/** The drawn graph: what a status update needs to reach, and the state clicked last. */
export interface GraphView {
  nodes: Map<string, NodeRef>;
  edges: EdgeRef[];
  selected: string | null;
}

const MARGIN = 16;

/** Draws `workflow` into `container`; `onSelect` gets the name of a clicked (or Enter-ed) state. */
export function buildGraph(container: HTMLElement, workflow: WorkflowGraph, onSelect: (state: string) => void): GraphView {
  clear(container);
  const layout = layoutStates(Array.isArray(workflow.states) ? workflow.states : [], workflow.startAt);
  const w = Math.ceil(layout.width + 2 * MARGIN);
  const ht = Math.ceil(layout.height + 2 * MARGIN);
  const svg = s('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    width: w,
    height: ht,
    viewBox: `0 0 ${w} ${ht}`,
    role: 'img',
    'aria-label': `State graph of workflow ${workflow.name}`,
  });
  const defs = s('defs');
  for (const [id, cls] of [['sw-arrow', 'arrow'], ['sw-arrow-light', 'arrow light']] as const) {
    defs.appendChild(
      s('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, [
        s('path', { class: cls, d: 'M0 0 L10 5 L0 10 z' }),
      ]),
    );
  }
  svg.appendChild(defs);
  const root = s('g', { transform: `translate(${MARGIN} ${MARGIN})` });
  svg.appendChild(root);
  const view: GraphView = { nodes: new Map(), edges: [], selected: null };
  drawLayout(layout, root, view, onSelect);
  container.appendChild(svg);
  return view;
}

function drawLayout(layout: Layout, group: SVGGElement, view: GraphView, onSelect: (state: string) => void): void {
  for (const e of layout.edges) {
    const path = s('path', { d: e.d, 'marker-end': 'url(#sw-arrow-light)' });
    const g = s('g', { class: `edge ${e.kind}`, 'data-from': e.from, 'data-to': e.to }, [path]);
    if (e.label) {
      const text = cut(e.label, 28);
      const w = labelWidth(text);
      const x = e.anchor === 'middle' ? e.lx - w / 2 : e.lx;
      g.appendChild(s('rect', { class: 'label-bg', x, y: e.ly - 8, width: w, height: 15, rx: 3 }));
      g.appendChild(s('text', { x: x + w / 2, y: e.ly + 3.5, 'text-anchor': 'middle', text }, [s('title', { text: e.label })]));
    }
    group.appendChild(g);
    view.edges.push({ g, path, from: e.from, to: e.to, kind: e.kind });
  }
  for (const name of layout.names) {
    const node = layout.nodes.get(name)!;
    const st = node.state;
    const x = node.x - node.w / 2;
    const y = node.y;
    const type = typeof st.type === 'string' ? st.type : 'state';
    const container = node.branches !== null;
    const title = s('title', { text: name });
    const g = s('g', {
      class: `node st-not-reached${container ? ' container' : ''}`,
      'data-state': name,
      'data-type': type,
      'data-status': 'not-reached',
      tabindex: 0,
      role: 'button',
    }, [title]);
    const rx = container ? 9 : type === 'choice' ? 16 : type === 'succeed' || type === 'fail' ? 25 : 7;
    g.appendChild(s('rect', { class: 'box', x, y, width: node.w, height: node.h, rx: Math.min(rx, node.h / 2) }));
    const kind = kindText(st);
    const maxChars = Math.floor((node.w - kind.length * 6.6 - 34) / 7.8);
    g.appendChild(s('text', { class: 'name', x: x + 12, y: y + 20, text: cut(name, Math.max(6, maxChars)) }));
    g.appendChild(s('text', { class: 'kind', x: x + node.w - 10, y: y + 15, 'text-anchor': 'end', text: kind }));
    const detail = s('text', { class: 'detail', x: x + 12, y: y + 38, text: 'not reached' });
    g.appendChild(detail);
    if (node.branches) {
      const inner = s('g', { transform: `translate(${x} ${y})` });
      node.branches.forEach((b, i) => {
        if (i > 0) {
          const sepX = b.offsetX - GRAPH.branchGap / 2;
          inner.appendChild(s('line', { class: 'branch-sep', x1: sepX, y1: GRAPH.header - 4, x2: sepX, y2: node.h - 6 }));
        }
        const bg = s('g', { transform: `translate(${b.offsetX} ${b.offsetY})` });
        drawLayout(b, bg, view, onSelect);
        inner.appendChild(bg);
      });
      g.appendChild(inner);
    }
    g.addEventListener('click', (ev) => {
      ev.stopPropagation();
      onSelect(name);
    });
    g.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        ev.stopPropagation();
        onSelect(name);
      }
    });
    group.appendChild(g);
    view.nodes.set(name, { g, title, detail, state: st, width: node.w, container });
  }
}

/** Recolours every node and edge from the derived statuses. */
export function applyStatuses(view: GraphView, result: Statuses): void {
  for (const [name, ref] of view.nodes) {
    const status = result.statuses.get(name) ?? 'not-reached';
    const info = result.info.get(name);
    ref.g.setAttribute('class', `node st-${status}${ref.container ? ' container' : ''}${view.selected === name ? ' selected' : ''}`);
    ref.g.setAttribute('data-status', status);
    const detail = nodeDetail(ref.state, status, info);
    ref.detail.textContent = cut(detail, Math.max(10, Math.floor((ref.width - 20) / 5.8)));
    let tip = `${name} (${ref.state.type})\n${STATUS_LABELS[status]}: ${detail}`;
    if (ref.state.compensation) tip += `\ncompensation: ${ref.state.compensation}`;
    if (info?.error) tip += `\nlast error: ${errorText(info.error)}`;
    ref.title.textContent = tip;
  }
  for (const e of view.edges) {
    const taken = edgeTaken(e.kind, result.statuses.get(e.from) ?? 'not-reached', result.statuses.get(e.to) ?? 'not-reached');
    e.g.setAttribute('class', `edge ${e.kind}${taken ? ' taken' : ''}`);
    e.path.setAttribute('marker-end', taken ? 'url(#sw-arrow)' : 'url(#sw-arrow-light)');
  }
}

/** The colour key above the graph. */
export function renderLegend(container: HTMLElement): void {
  clear(container);
  for (const status of NODE_STATUSES) {
    container.appendChild(h('span', { 'data-legend': status }, [h('i', { class: `st-${status}` }), STATUS_LABELS[status]]));
  }
  container.appendChild(h('span', { text: '· click a state to filter the timeline' }));
}
