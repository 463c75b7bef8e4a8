/**
 * CPU profiles of the measured phase only (not set-up, not baselines), via the inspector, with a
 * self-time and inclusive-time summary. For finding what a benchmark's time goes to.
 *
 *   node dist/bench/profile.js <scenario> [--top 30]
 *     step-normal | step-full     10-step no-op, one at a time
 *     tp100-normal | tp100-full   4-step no-op, 100 in flight
 *     checkout1-normal            checkout, one at a time
 *     http                        POST starts over 10 connections (load from a child process)
 *     http-parked                 the same for a workflow that parks on a wait: one commit a start
 *     timers | timers-normal      10,000 timers due at once, next to 20,000 parked
 *     history                     full read of a 10,003-event history through the API
 *
 * Writes data/bench/profiles/<scenario>.cpuprofile (open in Chrome DevTools) and prints the
 * summary. Percentages are of all samples in the phase, idle included.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { buildServer } from '../src/api/server.js';
import { checkout, shipping } from '../examples/checkout/workflow.js';
import { closedLoop, openRig } from './harness.js';
import type { LoadResult } from './load.js';
import { benchDir, benchId, removeDir, sleep, summarize } from './util.js';
import { bigMap, checkoutInput, lateness, noop10, noop4, parked, timerProbe } from './workflows.js';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

const REPO = resolve(new URL('../..', import.meta.url).pathname);

async function profiled<T>(name: string, phase: () => Promise<T>): Promise<{ value: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const value = await phase();
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
  session.disconnect();
  const dir = resolve(REPO, 'data', 'bench', 'profiles');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, `${name}.cpuprofile`), JSON.stringify(profile));
  return { value, profile };
}

/** Self and inclusive time per function (a function counted once per stack). */
export function summarizeProfile(p: CpuProfile, top: number): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const timeOf = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    timeOf.set(id, (timeOf.get(id) ?? 0) + dt);
    total += dt;
  });
  const label = (id: number) => {
    const f = byId.get(id)!.callFrame;
    const where = f.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
    return `${f.functionName || '(anonymous)'} ${where}${where ? `:${f.lineNumber + 1}` : ''}`;
  };
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  for (const [id, t] of timeOf) {
    self.set(label(id), (self.get(label(id)) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(cur);
      if (seen.has(l)) continue;
      seen.add(l);
      incl.set(l, (incl.get(l) ?? 0) + t);
    }
  }
  const list = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, t]) => `${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
  return `${(total / 1000).toFixed(0)} ms sampled\n-- self time\n${list(self)}\n-- inclusive time\n${list(incl)}`;
}

async function loopScenario(sync: 'full' | 'normal', wf: typeof noop4, inFlight: number, input: (i: number) => unknown) {
  const dir = benchDir('profile');
  const rig = await openRig(dir, sync, wf === (checkout as typeof noop4) ? [wf, shipping] : [wf]);
  await closedLoop(rig, wf, input, inFlight, 1000, 300);
  const { value, profile } = await profiled(scenario, () => closedLoop(rig, wf, input, inFlight, 4000, 0));
  await rig.close();
  removeDir(dir);
  return { profile, headline: `${wf.name} ${sync} ${inFlight} in flight: ${value.execPerSec.toFixed(0)} exec/s, p50 ${value.latencyMs.p50.toFixed(3)} ms, p99 ${value.latencyMs.p99.toFixed(3)} ms` };
}

async function httpScenario(wf: 'noop4' | 'parked') {
  const dir = benchDir('profile');
  const rig = await openRig(dir, 'full', [noop4, parked]);
  const app = buildServer({ engine: rig.engine, logger: false, startRateLimit: { max: 1_000_000_000, timeWindowMs: 60_000 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/workflows/${wf}/executions`;
  const load = () => new Promise<LoadResult>((ok, fail) => {
    const child = fork(new URL('./load.js', import.meta.url).pathname, [JSON.stringify({ url, body: '{"input":{"n":1}}', connections: 10, durationSec: 4, warmupSec: 1 })]);
    child.on('message', (m) => ok(m as LoadResult));
    child.on('error', fail);
  });
  const { value, profile } = await profiled(scenario, load);
  await app.close();
  await rig.close();
  removeDir(dir);
  return { profile, headline: `HTTP starts (${wf}): ${value.reqPerSec.toFixed(0)} req/s, p50 ${value.latencyMs.p50.toFixed(2)} ms, p99 ${value.latencyMs.p99.toFixed(2)} ms` };
}

async function timersScenario(sync: 'full' | 'normal') {
  const dir = benchDir('profile');
  const rig = await openRig(dir, sync, [parked, timerProbe]);
  const create = async (count: number, wf: string, input: () => unknown) => {
    let next = 0;
    await Promise.all(Array.from({ length: 500 }, async () => {
      while (next < count) {
        next++;
        await rig.engine.startExecution(wf, input(), { id: benchId(wf) });
      }
    }));
  };
  await create(20_000, 'parked', () => ({ n: 1 }));
  const dueAt = Date.now() + 4000;
  lateness.length = 0;
  await create(10_000, 'timerProbe', () => ({ dueAt }));
  while (Date.now() < dueAt - 20) await sleep(5);
  const { profile } = await profiled(scenario, async () => { while (lateness.length < 10_000) await sleep(5); });
  const fired = rig.store.connection.prepare("SELECT ts - json_extract(data, '$.dueAt') FROM history WHERE type = 'TimerFired'").pluck().all() as number[];
  await rig.close();
  removeDir(dir);
  const f = summarize(fired);
  const h = summarize(lateness);
  return { profile, headline: `10k timers: TimerFired lateness p50 ${f.p50} / p99 ${f.p99} ms; handler p50 ${h.p50} / p99 ${h.p99} ms` };
}

async function historyScenario() {
  const dir = benchDir('profile');
  const rig = await openRig(dir, 'full', [bigMap]);
  const id = benchId('bigMap');
  const ended = rig.probe.endOf(id);
  await rig.engine.startExecution('bigMap', { items: Array.from({ length: 5000 }, (_, i) => i) }, { id });
  await ended;
  const app = buildServer({ engine: rig.engine, logger: false });
  await app.ready();
  const read = async () => {
    let after: string | undefined;
    for (;;) {
      const res = await app.inject({ method: 'GET', url: `/v1/executions/${id}/history?limit=1000${after ? `&after=${after}` : ''}` });
      const page = JSON.parse(res.body) as { nextCursor?: string };
      if (!page.nextCursor) return;
      after = page.nextCursor;
    }
  };
  for (let i = 0; i < 3; i++) await read();
  const times: number[] = [];
  const { profile } = await profiled(scenario, async () => {
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      await read();
      times.push(performance.now() - t0);
    }
  });
  await app.close();
  await rig.close();
  removeDir(dir);
  return { profile, headline: `history via API: p50 ${summarize(times).p50.toFixed(1)} ms` };
}

const scenario = process.argv[2] ?? '';
const topAt = process.argv.indexOf('--top');
const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 30;
const scenarios: Record<string, () => Promise<{ profile: CpuProfile; headline: string }>> = {
  'step-normal': () => loopScenario('normal', noop10, 1, (i) => ({ i })),
  'step-full': () => loopScenario('full', noop10, 1, (i) => ({ i })),
  'tp100-normal': () => loopScenario('normal', noop4, 100, (i) => ({ i })),
  'tp100-full': () => loopScenario('full', noop4, 100, (i) => ({ i })),
  'checkout1-normal': () => loopScenario('normal', checkout as typeof noop4, 1, checkoutInput),
  http: () => httpScenario('noop4'),
  'http-parked': () => httpScenario('parked'),
  timers: () => timersScenario('full'),
  'timers-normal': () => timersScenario('normal'),
  history: historyScenario,
};
const chosen = scenarios[scenario];
if (!chosen) {
  console.error(`usage: node dist/bench/profile.js <${Object.keys(scenarios).join('|')}> [--top N]`);
  process.exit(2);
}
const { profile, headline } = await chosen();
console.log(`${scenario}: ${headline}\n${summarizeProfile(profile, top)}`);
process.exit(0);
