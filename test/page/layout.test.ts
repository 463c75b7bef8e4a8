/**
 * The history page's graph layout, without a browser: every state gets one box, forward edges go
 * down, boxes of a layer never overlap, a parallel state holds its branches, loops and edges that
 * would cross a state go round the right-hand side.
 */
import { describe, expect, it } from 'vitest';
import { checkout } from '../../examples/checkout/workflow.js';
import { GRAPH } from '../../src/api/page/client/graph-metrics.js';
import { layoutStates, type Layout, type LayoutNode } from '../../src/api/page/client/layout.js';
import type { StateDescription, WorkflowGraph } from '../../src/api/page/client/types.js';

/** The page reads the served description through WorkflowGraph: the real one must fit it. */
const description: WorkflowGraph = checkout.describe();

/** Every node of a layout and of its branches, with its top-left corner in the layout's own coordinates. */
function allNodes(layout: Layout, dx = 0, dy = 0): Array<LayoutNode & { left: number; top: number }> {
  return [...layout.nodes.values()].flatMap((n) => [
    { ...n, left: dx + n.x - n.w / 2, top: dy + n.y },
    ...(n.branches ?? []).flatMap((b) => allNodes(b, dx + n.x - n.w / 2 + b.offsetX, dy + n.y + b.offsetY)),
  ]);
}

/** The first and last points of an SVG path. */
function ends(d: string): { start: [number, number]; end: [number, number] } {
  const nums = d.match(/-?\d+(\.\d+)?/g)!.map(Number);
  return { start: [nums[0]!, nums[1]!], end: [nums[nums.length - 2]!, nums[nums.length - 1]!] };
}

function task(name: string, extra: Partial<StateDescription> = {}): StateDescription {
  return { name, type: 'task', ...extra };
}

describe('graph layout', () => {
  const layout = layoutStates(description.states, description.startAt);

  it('gives every state of checkout one box, the parallel branches included', () => {
    const names = allNodes(layout).map((n) => n.name);
    expect(names.sort()).toEqual(
      ['validateCart', 'cartValid', 'InvalidCart', 'processPayment', 'needsReview', 'awaitReview', 'reviewDecision', 'Rejected', 'fulfil', 'createOrder', 'sendReceipt', 'reserveInventory', 'waitForShipping', 'scheduleShipping', 'sendConfirmation', 'done', 'holdShipping'].sort(),
    );
  });

  it('puts every forward edge\'s target in a lower layer, below its source, and draws it from bottom to top', () => {
    const forward = layout.edges.filter((e) => !e.back);
    expect(forward.length).toBe(layout.edges.length);
    for (const e of forward) {
      const from = layout.nodes.get(e.from)!;
      const to = layout.nodes.get(e.to)!;
      expect(to.rank, `${e.from} -> ${e.to}`).toBeGreaterThan(from.rank);
      expect(to.y).toBeGreaterThanOrEqual(from.y + from.h + GRAPH.gapY);
      const { start, end } = ends(e.d);
      expect(start).toEqual([from.x, from.y + from.h]);
      expect(end).toEqual([to.x, to.y]);
    }
    expect(layout.nodes.get('validateCart')!.rank).toBe(0);
    expect(layout.nodes.get('done')!.rank).toBe(layout.nodes.get('sendConfirmation')!.rank + 1);
  });

  it('keeps boxes of one layer apart and every box inside the drawing', () => {
    const byRank = new Map<number, LayoutNode[]>();
    for (const n of layout.nodes.values()) byRank.set(n.rank, [...(byRank.get(n.rank) ?? []), n]);
    const cartValidChildren = byRank.get(layout.nodes.get('cartValid')!.rank + 1)!;
    expect(cartValidChildren.map((n) => n.name).sort()).toEqual(['InvalidCart', 'processPayment']);
    for (const row of byRank.values()) {
      const sorted = [...row].sort((a, b) => a.x - b.x);
      for (let i = 1; i < sorted.length; i++) {
        const gap = sorted[i]!.x - sorted[i]!.w / 2 - (sorted[i - 1]!.x + sorted[i - 1]!.w / 2);
        expect(gap).toBeGreaterThanOrEqual(GRAPH.gapX - 1e-9);
      }
    }
    for (const n of allNodes(layout)) {
      expect(n.left, n.name).toBeGreaterThanOrEqual(-1e-9); // centring arithmetic leaves float noise
      expect(n.left + n.w, n.name).toBeLessThanOrEqual(layout.width + 1e-9);
      expect(n.top + n.h, n.name).toBeLessThanOrEqual(layout.height + 1e-9);
    }
  });

  it('draws a parallel state as a box holding its branches side by side', () => {
    const fulfil = layout.nodes.get('fulfil')!;
    expect(fulfil.branches).toHaveLength(2);
    const [left, right] = fulfil.branches!;
    expect([...left!.nodes.keys()]).toEqual(['createOrder', 'sendReceipt']);
    expect([...right!.nodes.keys()]).toEqual(['reserveInventory']);
    expect(left!.edges.map((e) => `${e.from}->${e.to}`)).toEqual(['createOrder->sendReceipt']);
    expect(left!.offsetX).toBeGreaterThanOrEqual(GRAPH.pad);
    expect(right!.offsetX).toBeGreaterThanOrEqual(left!.offsetX + left!.width + GRAPH.branchGap - 1e-9);
    expect(right!.offsetX + right!.width).toBeLessThanOrEqual(fulfil.w - GRAPH.pad + 1e-9);
    for (const b of [left!, right!]) expect(b.offsetY + b.height).toBeLessThanOrEqual(fulfil.h);
    expect(fulfil.h).toBeGreaterThan(GRAPH.nodeH);
  });

  it('labels choice edges and merges routes to one target into one edge', () => {
    const choice: StateDescription[] = [
      { name: 'pick', type: 'choice', choices: [{ next: 'a', label: 'small' }, { next: 'a', label: 'tiny' }, { next: 'b', label: 'big' }], default: 'a' },
      task('a', { end: true }),
      task('b', { end: true }),
    ];
    const l = layoutStates(choice, 'pick');
    expect(l.edges.map((e) => [e.to, e.kind, e.label])).toEqual([
      ['a', 'choice', 'small / tiny / default'],
      ['b', 'choice', 'big'],
    ]);
    const byCheckout = layout.edges.find((e) => e.from === 'cartValid' && e.to === 'InvalidCart')!;
    expect(byCheckout.label).toBe('default');
  });

  it('marks a loop as a back edge and routes it round the right of the states it passes', () => {
    const loop: StateDescription[] = [
      task('poll', { next: 'ready?' }),
      { name: 'ready?', type: 'choice', choices: [{ next: 'use', label: 'ready' }], default: 'pause' },
      { name: 'pause', type: 'wait', next: 'poll' },
      task('use', { end: true }),
    ];
    const l = layoutStates(loop, 'poll');
    const back = l.edges.filter((e) => e.back);
    expect(back.map((e) => `${e.from}->${e.to}`)).toEqual(['pause->poll']);
    const rightmost = Math.max(...[...l.nodes.values()].map((n) => n.x + n.w / 2));
    const path = back[0]!.d.match(/-?\d+(\.\d+)?/g)!.map(Number);
    const xs = path.filter((_, i) => i % 2 === 0);
    expect(Math.max(...xs)).toBeGreaterThan(rightmost);
    expect(l.width).toBeGreaterThanOrEqual(Math.max(...xs));
    expect(back[0]!.anchor).toBe('start');
  });

  it('routes an edge that skips a layer round the state in its way', () => {
    const skip: StateDescription[] = [
      { name: 'start', type: 'choice', choices: [{ next: 'middle', label: 'long way' }], default: 'end' },
      task('middle', { next: 'end' }),
      task('end', { end: true }),
    ];
    const l = layoutStates(skip, 'start');
    const shortcut = l.edges.find((e) => e.from === 'start' && e.to === 'end')!;
    expect(l.nodes.get('end')!.rank - l.nodes.get('start')!.rank).toBe(2);
    expect(shortcut.anchor).toBe('start');
    const middle = l.nodes.get('middle')!;
    const xs = shortcut.d.match(/-?\d+(\.\d+)?/g)!.map(Number).filter((_, i) => i % 2 === 0);
    expect(Math.max(...xs)).toBeGreaterThan(middle.x + middle.w / 2);
  });

  it('is deterministic and copes with an empty list and a missing start', () => {
    const again = layoutStates(description.states, description.startAt);
    expect(allNodes(again)).toEqual(allNodes(layout));
    expect(again.edges).toEqual(layout.edges);
    expect(layoutStates([], null)).toMatchObject({ names: [], edges: [], width: 0, height: 0 });
    expect(layoutStates([task('only', { end: true })], 'nowhere').names).toEqual(['only']);
  });
});
