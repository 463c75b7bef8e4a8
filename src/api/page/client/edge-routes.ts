/**
 * SVG paths for a layout's edges. A forward edge with a clear line of sight is one curve down to
 * its target; one that would cross a state, and every back edge (a loop), goes round the right of
 * the states it passes, each in its own lane so parallel detours never overlap. Pure: no DOM.
 */
import { GRAPH } from './graph-metrics.js';

export interface RoutedEdge {
  /** The SVG path. */
  d: string;
  /** Where the label goes, and whether it is centred there ('middle') or starts there ('start'). */
  lx: number;
  ly: number;
  anchor: 'middle' | 'start';
}

interface Placed {
  x: number;
  y: number;
  w: number;
  h: number;
  rank: number;
}

interface Box {
  l: number;
  r: number;
  t: number;
  b: number;
}

/** Width of an edge label's background, estimated from its length. */
export function labelWidth(text: string): number {
  return Math.min(180, text.length * 6.1 + 8);
}

/** Radius of a detour's rounded corners. */
const CORNER = 8;

/**
 * Fills in `d`, `lx`, `ly` and `anchor` of every edge. Returns the drawing's width, grown to hold
 * the detour lanes and their labels.
 */
export function routeEdges(
  edges: Array<RoutedEdge & { from: string; to: string; back: boolean; label: string }>,
  nodes: Map<string, Placed>,
  layers: string[][],
  width: number,
): number {
  let lanes = 0;
  const box = (n: string): Box => {
    const nd = nodes.get(n)!;
    return { l: nd.x - nd.w / 2, r: nd.x + nd.w / 2, t: nd.y, b: nd.y + nd.h };
  };
  const rightOf = (fromRank: number, toRank: number) => {
    let m = 0;
    for (let r = fromRank; r <= toRank; r++) for (const n of layers[r] ?? []) m = Math.max(m, box(n).r);
    return m;
  };
  for (const e of edges) {
    const a = box(e.from);
    const b = box(e.to);
    const ra = nodes.get(e.from)!.rank;
    const rb = nodes.get(e.to)!.rank;
    const sx = nodes.get(e.from)!.x;
    const tx = nodes.get(e.to)!.x;
    if (!e.back && rb > ra) {
      const sy = a.b;
      const ty = b.t;
      if (!crossesAState(layers, ra, rb, box, sx, sy, tx, ty)) {
        const dy = (ty - sy) / 2;
        e.d = `M${sx} ${sy} C${sx} ${sy + dy} ${tx} ${ty - dy} ${tx} ${ty}`;
        Object.assign(e, { lx: (sx + tx) / 2, ly: (sy + ty) / 2, anchor: 'middle' });
      } else {
        const xr = rightOf(ra + 1, rb - 1) + 18 + lanes * GRAPH.lane;
        lanes++;
        const y1 = sy + GRAPH.gapY / 2;
        const y2 = ty - GRAPH.gapY / 2;
        const c = CORNER;
        const dir = tx > xr ? 1 : -1;
        e.d =
          `M${sx} ${sy} L${sx} ${y1 - c} Q${sx} ${y1} ${sx + c} ${y1}` +
          ` L${xr - c} ${y1} Q${xr} ${y1} ${xr} ${y1 + c}` +
          ` L${xr} ${y2 - c} Q${xr} ${y2} ${xr + dir * c} ${y2}` +
          ` L${tx - dir * c} ${y2} Q${tx} ${y2} ${tx} ${y2 + c} L${tx} ${ty}`;
        Object.assign(e, { lx: xr + 4, ly: (y1 + y2) / 2, anchor: 'start' });
        width = Math.max(width, xr + 10);
      }
    } else {
      // A back edge (or a same-layer one): out of the source's right side, into the target's.
      const xb = rightOf(Math.min(ra, rb), Math.max(ra, rb)) + 18 + lanes * GRAPH.lane;
      lanes++;
      const self = e.from === e.to ? 10 : 0;
      const sx2 = a.r;
      const sy2 = (a.t + a.b) / 2 + self;
      const tx2 = b.r;
      const ty2 = (b.t + b.b) / 2 - self;
      const up = ty2 < sy2 ? -1 : 1;
      const k = CORNER;
      e.d =
        `M${sx2} ${sy2} L${xb - k} ${sy2} Q${xb} ${sy2} ${xb} ${sy2 + up * k}` +
        ` L${xb} ${ty2 - up * k} Q${xb} ${ty2} ${xb - k} ${ty2} L${tx2} ${ty2}`;
      Object.assign(e, { lx: xb + 4, ly: (sy2 + ty2) / 2, anchor: 'start' });
      width = Math.max(width, xb + 10);
    }
    if (e.label && e.anchor === 'start') width = Math.max(width, e.lx + labelWidth(e.label) + 6);
  }
  return width;
}

/** True when the straight line from (sx, sy) to (tx, ty) passes within 8 units of a state in a layer between. */
function crossesAState(
  layers: string[][],
  fromRank: number,
  toRank: number,
  box: (n: string) => Box,
  sx: number,
  sy: number,
  tx: number,
  ty: number,
): boolean {
  for (let r = fromRank + 1; r < toRank; r++) {
    for (const n of layers[r] ?? []) {
      const bx = box(n);
      const t = ((bx.t + bx.b) / 2 - sy) / (ty - sy);
      const lx = sx + (tx - sx) * t;
      if (lx > bx.l - 8 && lx < bx.r + 8) return true;
    }
  }
  return false;
}
