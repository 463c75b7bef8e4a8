import { Engine, ExecutionStatus, openStore, VirtualClock, type EngineOptions, type ExecutionSummary, type HistoryEvent, type Store, type Workflow } from '../../src/index.js';

/** An engine on an in-memory SQLite store and a virtual clock, for tests that must not wait. */
export async function virtualEngine(workflows: Workflow<any>[], options: Partial<EngineOptions> = {}) {
  const clock = new VirtualClock();
  const store: Store = await openStore(':memory:');
  const engine = new Engine({ store, clock, random: () => 0.5, ...options }).register(...workflows);
  await engine.start();

  /** Runs until the execution ends, moving the virtual clock to each next timer. */
  async function runToEnd(id: string, maxTimers = 10_000): Promise<ExecutionSummary> {
    for (let i = 0; i < maxTimers; i++) {
      await engine.idle({ handlerGraceMs: 20 });
      const execution = await engine.getExecution(id);
      if (execution.status !== ExecutionStatus.RUNNING) return execution;
      const next = clock.nextTimerAt();
      if (next === undefined) throw new Error(`execution ${id} is stuck: RUNNING with no timer pending`);
      await clock.advance(Math.max(0, next - clock.now()));
    }
    throw new Error(`execution ${id} did not end after ${maxTimers} timers`);
  }

  async function start(workflow: string, input: unknown, id?: string): Promise<string> {
    const { execution } = await engine.startExecution(workflow, input, id ? { id } : {});
    return execution.id;
  }

  async function history(id: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await engine.getHistory(id, { after, limit: 1000 });
      events.push(...page.events);
      if (!page.nextCursor) return events;
      after = page.nextCursor;
    }
  }

  async function close() {
    await engine.stop({ graceMs: 0 });
    await store.close();
  }

  return { engine, clock, store, start, runToEnd, history, close };
}

/** "type:step" for each event, to compare sequences readably. */
export function trace(events: HistoryEvent[], types?: string[]): string[] {
  return events.filter((e) => !types || types.includes(e.type)).map((e) => (e.step ? `${e.type}:${e.step}` : e.type));
}
