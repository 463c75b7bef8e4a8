/**
 * WAL checkpoints off the event loop. A checkpoint copies the WAL's pages into the database file
 * and fsyncs both; on the store's own connection that held the event loop for 6-47 ms four times
 * in 4 s of HTTP starts on a loaded VM, every request in flight waiting behind it. Here a worker
 * thread with its own connection to the same file runs `PRAGMA wal_checkpoint(PASSIVE)`, which
 * WAL allows beside a writer: it copies only frames no reader needs and never blocks the writer.
 *
 * It reports SQLite's result row: frames it could not copy, and commits made meanwhile, are left
 * to the store's own connection (checkpoint-schedule.ts says why the WAL needs that to restart).
 *
 * The worker's code is a string evaluated as CommonJS (so it runs the same under the compiled
 * package and under a TypeScript loader) and loads the same better-sqlite3 the store uses: one
 * SQLite library per process, which keeps POSIX locks right for two connections to one file.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); parentPort.close(); return; }
  let result, error;
  try { result = db.pragma('wal_checkpoint(PASSIVE)')[0]; } catch (e) { error = String(e && e.message || e); }
  parentPort.postMessage({ result, error });
});
`;

/**
 * SQLite's row for a checkpoint: `busy` 1 when it could not run, `log` the frames in the WAL when
 * it began, `checkpointed` the frames copied into the database (all of them when equal to `log`).
 */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface CheckpointHandler {
  /** A checkpoint ran (or could not, when `busy`). */
  result(result: CheckpointResult): void;
  /** A checkpoint failed, or the thread did. */
  error(message: string): void;
}

/**
 * What `request` did: 'started' a checkpoint; left it to the one 'running' (or to close); or
 * the thread 'failed' and the store must checkpoint on its own connection.
 */
export type CheckpointRequest = 'started' | 'running' | 'failed';

export class Checkpointer {
  private worker: Worker | undefined;
  private running: Promise<void> | undefined;
  private done: (() => void) | undefined;
  private closed = false;
  private failed = false;

  /** `path` absolute (the thread opens it, and the process may have changed directory since). */
  constructor(private readonly path: string, private readonly handler: CheckpointHandler) {}

  /** Starts a checkpoint unless one is under way (the next request starts the next). */
  request(): CheckpointRequest {
    if (this.failed) return 'failed';
    if (this.closed || this.running) return 'running';
    const worker = this.start();
    this.running = new Promise((resolve) => { this.done = resolve; });
    worker.postMessage('checkpoint');
    return 'started';
  }

  /** True while a checkpoint runs on the thread. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Resolves once the checkpoint under way has ended and been reported (at once if none). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Waits for the checkpoint under way, then stops the thread and its connection. */
  async close(): Promise<void> {
    this.closed = true;
    // Unreferenced, the thread would not keep the process alive for this wait: it would just end.
    this.worker?.ref();
    await this.running;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    await exited;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_CODE, { eval: true, workerData: { path: this.path, module } });
    worker.unref();
    worker.on('message', (m: { result?: CheckpointResult; error?: string }) => {
      this.finish();
      if (m.error !== undefined) this.handler.error(m.error);
      else if (m.result) this.handler.result(m.result);
    });
    worker.on('error', (error) => {
      // The thread died (it could not open the file, say): checkpoints go back to the store's own.
      this.failed = true;
      this.worker = undefined;
      this.finish();
      this.handler.error(error.message);
    });
    this.worker = worker;
    return worker;
  }

  private finish(): void {
    const done = this.done;
    this.running = undefined;
    this.done = undefined;
    done?.();
  }
}
