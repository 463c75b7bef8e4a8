import { describe, expect, it } from 'vitest';
import { AggregatorRegistry, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { CountingHistogram } from '../../src/observability/histogram.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300];
const VALUES = [0, 0.001, 0.0011, 0.3, 1, 400, 5, 1e-9, 299.9];

/** The same observations into prom-client's Histogram and a CountingHistogram, each in its own registry. */
function pair() {
  const ours = new Registry<RegistryContentType>();
  const theirs = new Registry<RegistryContentType>();
  const labelled = new Histogram({ name: 'h', help: 'help "quoted" \\ text', labelNames: ['workflow', 'step', 'outcome'], buckets: BUCKETS, registers: [theirs] });
  const counting = new CountingHistogram('h', 'help "quoted" \\ text', BUCKETS, ours);
  const plainTheirs = new Histogram({ name: 'u', help: 'u', buckets: [1, 2, 5], registers: [theirs] }).labels();
  const plainOurs = new CountingHistogram('u', 'u', [1, 2, 5], ours).child();
  const sets = [{ workflow: 'w', step: 'a"b', outcome: 'succeeded' }, { workflow: 'w', step: 'c', outcome: 'failed' }];
  const theirChildren = sets.map((l) => labelled.labels(l));
  const ourChildren = sets.map((l) => counting.child(l));
  const observe = (v: number, i: number) => {
    theirChildren[i % 2]!.observe(v);
    ourChildren[i % 2]!.observe(v);
    plainTheirs.observe(v);
    plainOurs.observe(v);
  };
  return { ours, theirs, observe };
}

describe('CountingHistogram', () => {
  it('reads exactly as prom-client\'s Histogram: text, OpenMetrics, JSON, cluster aggregation, after a reset', async () => {
    const { ours, theirs, observe } = pair();
    expect(await ours.metrics()).toBe(await theirs.metrics()); // before any observation: only the unlabelled one, zeros
    VALUES.forEach(observe);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    const aggregate = async (r: Registry<RegistryContentType>) => AggregatorRegistry.aggregate([await r.getMetricsAsJSON(), await r.getMetricsAsJSON()]).metrics();
    expect(await aggregate(ours)).toBe(await aggregate(theirs));
    ours.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    theirs.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
    observe(2, 0);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});

describe('CountingHistogram.child', () => {
  it('returns the same counts for the same label set, so a label set is one series (as prom-client\'s labels())', async () => {
    const registry = new Registry();
    const h = new CountingHistogram('h_seconds', 'help', [1], registry);
    h.child({ a: 'x', b: 'y' }).observe(0.5);
    h.child({ b: 'y', a: 'x' }).observe(2);
    h.child({ a: 'x' }).observe(0.5);
    const text = await registry.metrics();
    expect(text.match(/^h_seconds_count\{.*$/gm)).toEqual(['h_seconds_count{a="x",b="y"} 2', 'h_seconds_count{a="x"} 1']);
  });
});
