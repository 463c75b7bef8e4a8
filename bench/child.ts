/**
 * Runs one benchmark in its own process (forked by bench/run.ts with --expose-gc), so memory,
 * JIT state and leftover timers of one benchmark never leak into the next. Usage:
 *   node --expose-gc dist/bench/child.js <bench> [json options]
 * Sends { ok, result } to the parent over IPC, or prints it when run by hand.
 */
import type { BenchResult } from './util.js';

const BENCHES = ['step', 'throughput', 'pg-throughput', 'http', 'scale', 'history', 'scale-out', 'schedule', 'burst', 'coldstart'] as const;

async function main(): Promise<void> {
  // 'cluster' runs as bench/scale-out.js (bench/cluster.js is the scenario runner it wraps);
  // 'pg' runs as bench/pg-throughput.js.
  const alias: Record<string, string> = { cluster: 'scale-out', pg: 'pg-throughput' };
  const name = (alias[process.argv[2]] ?? process.argv[2]) as (typeof BENCHES)[number];
  if (!BENCHES.includes(name)) throw new Error(`unknown benchmark '${name}' (one of ${BENCHES.join(', ')})`);
  const options = process.argv[3] ? JSON.parse(process.argv[3]) : undefined;
  const mod = (await import(`./${name}.js`)) as { run(opts?: unknown): Promise<BenchResult> };
  const result = await mod.run(options);
  if (process.send) {
    await new Promise<void>((resolve) => process.send!({ ok: true, result }, undefined, undefined, () => resolve()));
  } else {
    console.log(JSON.stringify(result, null, 2));
  }
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    const message = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
    if (process.send) await new Promise<void>((resolve) => process.send!({ ok: false, error: message }, undefined, undefined, () => resolve()));
    else console.error(message);
    process.exit(1);
  },
);
