/**
 * Lays out a workflow's states as a top-to-bottom layered graph: the longest path from the start
 * decides a state's layer, each state sits as near the mean of its parents as the spacing allows,
 * and a parallel state is a box holding its branches side by side, each laid out the same way.
 * Pure: sizes are estimated from text length, so it runs (and is tested) without a browser.
 */
import { routeEdges, type RoutedEdge } from './edge-routes.js';
import { GRAPH } from './graph-metrics.js';
import { successors, type EdgeKind } from './transitions.js';
import type { StateDescription } from './types.js';

export interface LayoutNode {
  name: string;
  state: StateDescription;
  /** Centre x and top y, relative to the layout's own origin. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** The layer, 0 at the top. */
  rank: number;
  /** A parallel state's branches, placed inside its box. */
  branches: BranchLayout[] | null;
}

export interface LayoutEdge extends RoutedEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** Every label of the routes it merges, joined with ' / '. */
  label: string;
  /** True for an edge that goes back up to an earlier layer (a loop). */
  back: boolean;
}

export interface Layout {
  /** State names in definition order. */
  names: string[];
  nodes: Map<string, LayoutNode>;
  edges: LayoutEdge[];
  width: number;
  height: number;
}

/** A branch's layout and its top-left corner inside the parallel state's box. */
export interface BranchLayout extends Layout {
  offsetX: number;
  offsetY: number;
}

/** The type shown in a node's corner; ↺ marks a step with a compensation. */
export function kindText(state: StateDescription): string {
  return (typeof state.type === 'string' ? state.type : 'state') + (state.compensation ? ' ↺' : '');
}

function nodeWidth(state: StateDescription): number {
  return Math.min(320, Math.max(GRAPH.nodeW, state.name.length * 7.8 + kindText(state).length * 6.6 + 40));
}

/** Lays out one list of states (the top level or one parallel branch), entered at `startAt`. */
export function layoutStates(states: readonly StateDescription[], startAt: string | null): Layout {
  const byName = new Map<string, StateDescription>();
  for (const state of states) {
    if (state && typeof state.name === 'string' && !byName.has(state.name)) byName.set(state.name, state);
  }
  const names = [...byName.keys()];
  const nodes = new Map<string, LayoutNode>();
  for (const [name, state] of byName) nodes.set(name, sizedNode(name, state));

  const outs = new Map<string, LayoutEdge[]>();
  const edges: LayoutEdge[] = [];
  for (const [name, state] of byName) {
    const list: LayoutEdge[] = [];
    for (const s of successors(state)) {
      if (!byName.has(s.to)) continue;
      const edge: LayoutEdge = { from: name, to: s.to, kind: s.kind, label: s.labels.join(' / '), back: false, d: '', lx: 0, ly: 0, anchor: 'middle' };
      list.push(edge);
      edges.push(edge);
    }
    outs.set(name, list);
  }

  const { discovery, postOrder } = depthFirst(names, outs, startAt);
  const layers = assignLayers(names, outs, postOrder, nodes);
  const height = placeNodes(layers, edges, nodes, discovery);

  let minX = Infinity;
  let maxX = -Infinity;
  for (const node of nodes.values()) {
    minX = Math.min(minX, node.x - node.w / 2);
    maxX = Math.max(maxX, node.x + node.w / 2);
  }
  if (!names.length) minX = maxX = 0;
  for (const node of nodes.values()) node.x -= minX;
  const width = routeEdges(edges, nodes, layers, maxX - minX);
  return { names, nodes, edges, width, height };
}

/** A node with its size; a parallel state grows to hold its branches, laid out recursively. */
function sizedNode(name: string, state: StateDescription): LayoutNode {
  const node: LayoutNode = { name, state, x: 0, y: 0, w: nodeWidth(state), h: GRAPH.nodeH, rank: 0, branches: null };
  if (!Array.isArray(state.branches) || !state.branches.length) return node;
  let sumW = 0;
  let maxH = 0;
  const branches = state.branches.map((b, i): BranchLayout => {
    const list = Array.isArray(b) ? b : [];
    const layout = layoutStates(list, list[0]?.name ?? null);
    const placed = { ...layout, offsetX: GRAPH.pad + sumW + GRAPH.branchGap * i, offsetY: GRAPH.header };
    sumW += layout.width;
    maxH = Math.max(maxH, layout.height);
    return placed;
  });
  sumW += GRAPH.branchGap * (branches.length - 1);
  node.w = Math.max(node.w, sumW + 2 * GRAPH.pad);
  node.h = GRAPH.header + maxH + GRAPH.pad;
  for (const b of branches) b.offsetX += (node.w - 2 * GRAPH.pad - sumW) / 2;
  node.branches = branches;
  return node;
}

/** Depth-first from the start (then any state not reached from it): marks back edges (loops). */
function depthFirst(names: string[], outs: Map<string, LayoutEdge[]>, startAt: string | null) {
  const mark = new Map<string, 1 | 2>();
  const discovery = new Map<string, number>();
  const postOrder: string[] = [];
  const visit = (n: string) => {
    mark.set(n, 1);
    discovery.set(n, discovery.size);
    for (const e of outs.get(n) ?? []) {
      const m = mark.get(e.to);
      if (m === 1) e.back = true;
      else if (m === undefined) visit(e.to);
    }
    mark.set(n, 2);
    postOrder.push(n);
  };
  const roots = startAt !== null && outs.has(startAt) ? [startAt, ...names] : names;
  for (const n of roots) if (!mark.has(n)) visit(n);
  return { discovery, postOrder };
}

/** Longest-path layering over the forward edges; sets each node's rank, returns the layers. */
function assignLayers(names: string[], outs: Map<string, LayoutEdge[]>, postOrder: string[], nodes: Map<string, LayoutNode>): string[][] {
  const rank = new Map<string, number>(names.map((n) => [n, 0]));
  for (const n of [...postOrder].reverse()) {
    for (const e of outs.get(n) ?? []) if (!e.back) rank.set(e.to, Math.max(rank.get(e.to) ?? 0, (rank.get(n) ?? 0) + 1));
  }
  const sparse: string[][] = [];
  for (const n of names) (sparse[rank.get(n) ?? 0] ??= []).push(n);
  const layers = sparse.filter((l) => l && l.length);
  layers.forEach((layer, i) => {
    for (const n of layer) nodes.get(n)!.rank = i;
  });
  return layers;
}

/** y layer by layer; x as near the mean of the parents' x as the spacing allows. Returns the height. */
function placeNodes(layers: string[][], edges: LayoutEdge[], nodes: Map<string, LayoutNode>, discovery: Map<string, number>): number {
  const parents = new Map<string, string[]>();
  for (const e of edges) if (!e.back) parents.set(e.to, [...(parents.get(e.to) ?? []), e.from]);
  const want = new Map<string, number>();
  const node = (n: string) => nodes.get(n)!;
  let y = 0;
  for (const layer of layers) {
    let layerHeight = 0;
    for (const n of layer) {
      layerHeight = Math.max(layerHeight, node(n).h);
      const ps = parents.get(n) ?? [];
      want.set(n, ps.length ? ps.reduce((sum, p) => sum + node(p).x, 0) / ps.length : 0);
      node(n).y = y;
    }
    layer.sort((a, b) => want.get(a)! - want.get(b)! || discovery.get(a)! - discovery.get(b)!);
    // Pushed right from the left and left from the right; each node takes the middle of the two.
    const fromLeft: number[] = [];
    const fromRight: number[] = [];
    for (let i = 0; i < layer.length; i++) {
      const n = node(layer[i]!);
      fromLeft[i] = i === 0 ? want.get(n.name)! : Math.max(want.get(n.name)!, fromLeft[i - 1]! + (node(layer[i - 1]!).w + n.w) / 2 + GRAPH.gapX);
    }
    for (let i = layer.length - 1; i >= 0; i--) {
      const n = node(layer[i]!);
      fromRight[i] =
        i === layer.length - 1 ? want.get(n.name)! : Math.min(want.get(n.name)!, fromRight[i + 1]! - (node(layer[i + 1]!).w + n.w) / 2 - GRAPH.gapX);
    }
    layer.forEach((n, i) => {
      node(n).x = (fromLeft[i]! + fromRight[i]!) / 2;
    });
    y += layerHeight + GRAPH.gapY;
  }
  return Math.max(0, y - GRAPH.gapY);
}
