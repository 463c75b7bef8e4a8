/**
 * The scale-out benchmark as one of `npm run bench`'s: checkout executions per second on
 * PostgreSQL with 1, 2 and 3 engine processes next to SQLite with one, measured in the same run
 * (bench/cluster.ts does the work; this maps its rows to the report's shape).
 */
import { runClusterBench } from './cluster.js';
import type { BenchResult } from './util.js';

export async function run(options: Record<string, unknown> = {}): Promise<BenchResult> {
  const result = await runClusterBench(options);
  return {
    bench: 'cluster',
    rows: result.rows.map((r, i) => ({
      key: `cluster.${i}`,
      bench: 'cluster',
      label: r.name,
      value: r.value,
      unit: r.unit,
      ...(r.baseline !== undefined
        ? { baseline: r.baseline, baselineLabel: r.name.includes('scaling') ? 'PostgreSQL, 1 process' : 'SQLite, 1 process' }
        : {}),
      ...(r.ratio !== undefined ? { ratio: r.ratio } : {}),
      ...(r.note ? { note: r.note } : {}),
    })),
    details: result.details,
    notes: [],
  };
}
