/** A real engine on SQLite with small workflows for the trigger tests, and a log of trigger events to wait on. */
import { Engine, ExecutionStatus, openStore, workflow, type Store, type TriggerEvent } from '../../src/index.js';
import type { TriggerEngine } from '../../src/triggers/trigger-engine.js';

/** Holds each execution of the `gated` workflow in its task until the test lets it go. */
export class Gate {
  private waiting: Array<() => void> = [];
  private open = false;

  pass(): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  get held(): number {
    return this.waiting.length;
  }

  releaseOne(): void {
    this.waiting.shift()?.();
  }

  releaseAll(): void {
    this.open = true;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

export interface TestEngine {
  engine: Engine;
  store: Store;
  gate: Gate;
  /** Executions whose id starts with `prefix`. */
  executions(prefix: string): Promise<Array<{ id: string; status: string; input: unknown; output?: unknown }>>;
  close(): Promise<void>;
}

/** Workflows: `order` (one task echoing its input), `gated` (held by the gate), `follow-up` (for chaining). */
export async function startTestEngine(): Promise<TestEngine> {
  const store = await openStore(':memory:');
  const engine = new Engine({ store });
  const gate = new Gate();
  engine.register(
    workflow('order').task('accept', async (input: unknown) => ({ accepted: input })).build(),
    workflow('gated').task('hold', async () => { await gate.pass(); return 'released'; }, { timeoutMs: 600_000 }).build(),
    workflow('follow-up').task('note', async (input: unknown) => input).build(),
  );
  await engine.start();
  return {
    engine,
    store,
    gate,
    async executions(prefix) {
      const out: Array<{ id: string; status: string; input: unknown; output?: unknown }> = [];
      let cursor: string | undefined;
      do {
        const page = await engine.listExecutions({ limit: 500, ...(cursor ? { cursor } : {}) });
        for (const e of page.items) if (e.id.startsWith(prefix)) out.push(await engine.getExecution(e.id));
        cursor = page.nextCursor;
      } while (cursor);
      return out.sort((a, b) => a.id.localeCompare(b.id));
    },
    async close() {
      gate.releaseAll();
      await engine.stop({ graceMs: 1000 });
      await store.close();
    },
  };
}

/** Counts RUNNING executions whose id starts with `prefix`. */
export async function runningCount(engine: Engine, prefix: string): Promise<number> {
  const page = await engine.listExecutions({ status: ExecutionStatus.RUNNING, limit: 500 });
  return page.items.filter((e) => e.id.startsWith(prefix)).length;
}

/** Every event a runner reported, and a way to wait for the n-th one that matches. */
export class EventLog {
  readonly events: TriggerEvent[] = [];
  private watchers: Array<{ match: (e: TriggerEvent) => boolean; count: number; resolve: () => void }> = [];

  readonly listener = (event: TriggerEvent): void => {
    this.events.push(event);
    for (const w of [...this.watchers]) {
      if (this.count(w.match) >= w.count) {
        this.watchers = this.watchers.filter((x) => x !== w);
        w.resolve();
      }
    }
  };

  count(match: (e: TriggerEvent) => boolean): number {
    return this.events.filter(match).length;
  }

  /** Resolves once `count` events match (already seen ones included). */
  until(what: string, match: (e: TriggerEvent) => boolean, count = 1, timeoutMs = 20_000): Promise<void> {
    if (this.count(match) >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers = this.watchers.filter((x) => x !== watcher);
        reject(new Error(`timed out waiting for ${count} × ${what}; saw ${this.count(match)}. Events: ${JSON.stringify(this.events.slice(-15), errorText)}`));
      }, timeoutMs);
      const watcher = { match, count, resolve: () => { clearTimeout(timer); resolve(); } };
      this.watchers.push(watcher);
    });
  }

  started(trigger?: string): Array<Extract<TriggerEvent, { type: 'started' }>> {
    return this.events.filter((e): e is Extract<TriggerEvent, { type: 'started' }> => e.type === 'started' && (trigger === undefined || e.trigger === trigger));
  }
}

function errorText(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}` : value;
}

/**
 * An engine port whose `startExecution` runs `after` once the real start has committed (and
 * before the trigger hears of it): to lose an acknowledgement on purpose.
 */
export function engineWithHook(engine: TriggerEngine, after: (id: string, created: boolean) => void | Promise<void>): TriggerEngine {
  return {
    listWorkflows: () => engine.listWorkflows?.() ?? [],
    listExecutions: (q) => engine.listExecutions(q),
    waitForEnd: (id, t) => engine.waitForEnd(id, t),
    async startExecution(workflowName, input, options) {
      const started = await engine.startExecution(workflowName, input, options);
      await after(options.id, started.created);
      return started;
    },
  };
}

/** Warnings (reconnects, retries) are expected in these tests and reported as events; errors still print. */
export const quietLogger = {
  info() {},
  warn() {},
  error: (obj: object, msg?: string) => console.error(msg ?? '', obj),
};
