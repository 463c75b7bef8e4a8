/**
 * 8. Cold start: from process spawn to the first 200 from GET /healthz, `stepwise serve` (built,
 * no compile) against a bare fastify hello-world (bench/hello-server.ts), spawned alternately so
 * both see the same machine; and from spawn to the first step of an execution that a killed
 * process left running. Each spawn gets a free port and a fresh database; /healthz is polled
 * every 2 ms (connection refused until the port opens). Ratios are taken pair by pair (each
 * serve spawn against the hello-world spawn just before it), and the median ratio is reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { benchDir, now, removeDir, round, summarize, type BenchResult, type Row } from './util.js';

export interface ColdStartOptions {
  /** Spawns of each kind. */
  runs: number;
  /** Which served modules to time, paths relative to the repository. */
  modules: { label: string; path: string }[];
  /** Also time the resume of an execution left running by a killed process. */
  resume: boolean;
}

const REPO = resolve(new URL('../..', import.meta.url).pathname);
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
const HELLO = join(REPO, 'dist', 'bench', 'hello-server.js');
const RESUME_MODULE = join(REPO, 'dist', 'bench', 'coldstart-workflow.js');
const STEP_STARTED = 'coldstart: step started';

const DEFAULTS: ColdStartOptions = {
  runs: 10,
  modules: [
    { label: 'checkout example, compiled JS', path: 'dist/examples/checkout/workflow.js' },
    { label: 'checkout example, TypeScript source (tsx)', path: 'examples/checkout/workflow.ts' },
  ],
  resume: true,
};

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function healthz(port: number): Promise<number> {
  return new Promise((resolveStatus) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.once('error', () => resolveStatus(0));
    req.end();
  });
}

function post(port: number, path: string, body: unknown): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const text = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      res.resume();
      res.once('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end(text);
  });
}

interface Spawned { child: ChildProcess; exited: Promise<void>; stderr: () => string; line(text: string): Promise<void> }

function start(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiting: Array<{ text: string; resolve(): void }> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const w of waiting.filter((x) => out.includes(x.text))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
    // Only what a waiter may still look for matters; keep the buffer short.
    if (out.length > 1 << 16) out = out.slice(-4096);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err = (err + chunk).slice(-4096); });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    child, exited, stderr: () => err,
    line(text) {
      if (out.includes(text)) {
        out = out.slice(out.indexOf(text) + text.length);
        return Promise.resolve();
      }
      return new Promise<void>((done, fail) => {
        waiting.push({ text, resolve: () => { out = out.slice(out.indexOf(text) + text.length); done(); } });
        void exited.then(() => fail(new Error(`process exited before printing '${text}': ${err}`)));
      });
    },
  };
}

/** Polls /healthz until 200; rejects when the process exits first. */
async function untilHealthy(port: number, spawned: Spawned): Promise<void> {
  let exited = false;
  void spawned.exited.then(() => { exited = true; });
  for (;;) {
    if ((await healthz(port)) === 200) return;
    if (exited) throw new Error(`process exited before answering /healthz: ${spawned.stderr()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * CPU time (user + system, ms) the process has used so far, from /proc (Linux; NaN elsewhere).
 * On a shared machine it moves less than wall time: a start-up that waits for a core is not
 * slower in CPU time. Clock ticks are 10 ms.
 */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

async function stop(spawned: Spawned, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  spawned.child.kill(signal);
  await spawned.exited;
}

interface Timed { ms: number; cpuMs: number }

async function timeHello(dir: string): Promise<Timed> {
  const port = await freePort();
  const t0 = now();
  const spawned = start([HELLO, String(port)], dir);
  await untilHealthy(port, spawned);
  const ms = now() - t0;
  const cpu = cpuMs(spawned.child.pid);
  await stop(spawned);
  return { ms, cpuMs: cpu };
}

function serveArgs(module: string, port: number, db: string): string[] {
  return [CLI, 'serve', module, '--port', String(port), '--db', db, '--log-level', 'warn'];
}

async function timeServe(dir: string, module: string, i: number): Promise<Timed> {
  const port = await freePort();
  const db = join(dir, `serve-${i}.db`);
  const t0 = now();
  const spawned = start(serveArgs(join(REPO, module), port, db), dir);
  await untilHealthy(port, spawned);
  const ms = now() - t0;
  const cpu = cpuMs(spawned.child.pid);
  await stop(spawned);
  return { ms, cpuMs: cpu };
}

/** A process starts an execution whose step never returns and is killed; time the next process to that step. */
async function timeResume(dir: string, i: number): Promise<{ stepMs: number; healthyMs: number }> {
  const db = join(dir, `resume-${i}.db`);
  const port1 = await freePort();
  const first = start(serveArgs(RESUME_MODULE, port1, db), dir, { STEPWISE_COLDSTART_HANG: '1' });
  await untilHealthy(port1, first);
  const status = await post(port1, '/v1/workflows/coldstart/executions', { input: { n: i }, id: `resume-${i}` });
  if (status !== 201) throw new Error(`starting the execution answered ${status}`);
  await first.line(STEP_STARTED);
  await stop(first);

  const port2 = await freePort();
  const t0 = now();
  const second = start(serveArgs(RESUME_MODULE, port2, db), dir);
  const step = second.line(STEP_STARTED).then(() => now() - t0);
  await untilHealthy(port2, second);
  const healthyMs = now() - t0;
  const stepMs = await step;
  await stop(second);
  return { stepMs, healthyMs };
}

const median = (xs: number[]) => summarize(xs).p50;
const range = (xs: number[]) => `${round(Math.min(...xs), 0)}–${round(Math.max(...xs), 0)}`;

export async function run(given: Partial<ColdStartOptions> = {}): Promise<BenchResult> {
  const opts = { ...DEFAULTS, ...given };
  const dir = benchDir('coldstart');
  try {
    // One of each first, unmeasured: the page cache holds the files afterwards for all of them.
    await timeHello(dir);
    for (const m of opts.modules) await timeServe(dir, m.path, -1);
    if (opts.resume) await timeResume(dir, -1);

    const hello: number[] = [];
    const helloCpu: number[] = [];
    const serves = opts.modules.map(() => ({ ms: [] as number[], ratios: [] as number[], cpuMs: [] as number[] }));
    const resume = { stepMs: [] as number[], healthyMs: [] as number[], ratios: [] as number[] };
    for (let i = 0; i < opts.runs; i++) {
      for (const [k, m] of opts.modules.entries()) {
        const h = await timeHello(dir);
        hello.push(h.ms);
        helloCpu.push(h.cpuMs);
        const s = await timeServe(dir, m.path, i);
        serves[k].ms.push(s.ms);
        serves[k].cpuMs.push(s.cpuMs);
        serves[k].ratios.push(s.ms / h.ms);
      }
      if (opts.resume) {
        const h = await timeHello(dir);
        hello.push(h.ms);
        helloCpu.push(h.cpuMs);
        const r = await timeResume(dir, i);
        resume.stepMs.push(r.stepMs);
        resume.healthyMs.push(r.healthyMs);
        resume.ratios.push(r.stepMs / h.ms);
      }
    }

    const helloMs = median(hello);
    const rows: Row[] = [{
      key: 'coldstart.hello', bench: 'coldstart', label: 'bare fastify hello-world: spawn → first 200 from /healthz',
      value: round(helloMs, 0), unit: 'ms', note: `${hello.length} spawns, ${range(hello)} ms; CPU time ${round(median(helloCpu), 0)} ms (median)`,
    }];
    for (const [k, m] of opts.modules.entries()) {
      const ratio = median(serves[k].ratios);
      rows.push({
        key: `coldstart.serve.${k === 0 ? 'js' : `m${k}`}`, bench: 'coldstart', label: `stepwise serve (${m.label}): spawn → first 200 from /healthz`,
        value: round(median(serves[k].ms), 0), unit: 'ms', baseline: round(helloMs, 0), baselineLabel: 'hello-world, same run',
        ratio: round(ratio, 2), ...(k === 0 ? { target: '≤ 1.5× hello', pass: ratio <= 1.5 } : {}),
        note: `${serves[k].ms.length} spawns, ${range(serves[k].ms)} ms; pairwise ratios ${round(Math.min(...serves[k].ratios), 2)}–${round(Math.max(...serves[k].ratios), 2)}; ` +
          `CPU time ${round(median(serves[k].cpuMs), 0)} ms (median; hello-world ${round(median(helloCpu), 0)} ms)`,
      });
    }
    if (opts.resume) {
      const ratio = median(resume.ratios);
      rows.push({
        key: 'coldstart.resumeStep', bench: 'coldstart', label: 'execution left running by a killed process: spawn → its step starts',
        value: round(median(resume.stepMs), 0), unit: 'ms', baseline: round(helloMs, 0), baselineLabel: 'hello-world, same run',
        ratio: round(ratio, 2), target: '≤ 2× hello', pass: ratio <= 2,
        note: `${resume.stepMs.length} spawns, ${range(resume.stepMs)} ms; first 200 from /healthz at ${round(median(resume.healthyMs), 0)} ms (median)`,
      });
    }
    return { bench: 'coldstart', rows, details: { options: opts, helloMs: hello, helloCpuMs: helloCpu, serves, resume }, notes: [] };
  } finally {
    removeDir(dir);
  }
}
