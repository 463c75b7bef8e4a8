/**
 * WAL checkpoints off the event loop. A checkpoint copies the WAL's pages into the database file
 * and fsyncs both; on the store's own connection that held the event loop for 6-47 ms four times
 * in 4 s of HTTP starts on a loaded VM, every request in flight waiting behind it. Here a worker
 * thread with its own connection to the same file runs `PRAGMA wal_checkpoint(PASSIVE)`, which
 * WAL allows beside a writer: it copies only frames no reader needs, never blocks the writer, and
 * the writer restarts the WAL from its start once a checkpoint has copied everything.
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
  let error;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { error = String(e && e.message || e); }
  parentPort.postMessage({ error });
});
`;

export class Checkpointer {
  private worker: Worker | undefined;
  private running: Promise<void> | undefined;
  private done: (() => void) | undefined;
  private closed = false;
  private failed = false;

  constructor(private readonly path: string, private readonly onError: (message: string) => void) {}

  /**
   * Starts a checkpoint unless one is under way (the next request starts the next). False once
   * the thread has failed: the store then checkpoints on its own connection.
   */
  request(): boolean {
    if (this.failed) return false;
    if (this.closed || this.running) return true;
    const worker = this.start();
    this.running = new Promise((resolve) => { this.done = resolve; });
    worker.postMessage('checkpoint');
    return true;
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
    worker.on('message', (m: { error?: string }) => {
      if (m.error) this.onError(m.error);
      this.finish();
    });
    worker.on('error', (error) => {
      // The thread died (it could not open the file, say): checkpoints go back to the store's own.
      this.onError(error.message);
      this.failed = true;
      this.worker = undefined;
      this.finish();
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
