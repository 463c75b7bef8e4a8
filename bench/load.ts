/**
 * The HTTP load generator, run in its own process (forked by bench/http.ts) so it does not share
 * an event loop with the server it measures. Drives autocannon and records every response time
 * itself (autocannon's histogram has 1 ms resolution; these are sub-millisecond).
 * Input (argv[2], JSON): { url, body, connections, durationSec, warmupSec }.
 */
import autocannon from 'autocannon';

interface LoadArgs { url: string; body: string; connections: number; durationSec: number; warmupSec: number }
export interface LoadResult {
  requests: number; elapsedSec: number; reqPerSec: number; non2xx: number; errors: number; timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Every 2xx response time (ms), for merging rounds. */
  samples: number[];
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function once(args: LoadArgs, durationSec: number, record: boolean): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const instance = autocannon({
      url: args.url, method: 'POST', body: args.body, headers: { 'content-type': 'application/json' },
      connections: args.connections, pipelining: 1, duration: durationSec,
    }, (error, result) => {
      if (error) return reject(error);
      latencies.sort((a, b) => a - b);
      const mean = latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length);
      const elapsedSec = result.duration;
      resolve({
        requests: result.requests.total, elapsedSec, reqPerSec: result.requests.total / elapsedSec,
        non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts,
        latencyMs: { p50: pct(latencies, 50), p90: pct(latencies, 90), p99: pct(latencies, 99), max: latencies[latencies.length - 1] ?? NaN, mean },
        samples: latencies,
      });
    });
    if (record) {
      instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      });
    }
  });
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as LoadArgs;
  if (args.warmupSec > 0) await once(args, args.warmupSec, false);
  const result = await once(args, args.durationSec, true);
  if (process.send) await new Promise<void>((resolve) => process.send!(result, undefined, undefined, () => resolve()));
  else console.log(JSON.stringify(result));
}

main().then(() => process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
