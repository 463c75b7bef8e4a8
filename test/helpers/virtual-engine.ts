import {
  Engine, ExecutionStatus, openStore, VirtualClock, type EngineOptions, type ExecutionSummary, type HistoryEvent, type Store, type Workflow,
} from '../../src/index.js';

/** Real time a handler may keep working before `settle` gives up with an explanation (a hang, not a verdict). */
const STUCK_AFTER_MS = 15_000;

/**
 * An engine on an in-memory SQLite store and a virtual clock, for tests that must not wait.
 *
 * Time moves only when `settle` finds nothing left that could happen without it: the engine is
 * idle and every handler still running sleeps on the virtual clock (`clock.sleep`, e.g. a handler
 * that waits for its own timeout). A handler that works in real time is waited for, however slow
 * the machine, so a virtual timeout never fires under it.
 */
export async function virtualEngine(workflows: Workflow<any>[], options: Omit<Partial<EngineOptions>, 'clock'> & { clock?: VirtualClock } = {}) {
  const clock = options.clock ?? new VirtualClock();
  const store: Store = await openStore(':memory:');
  const engine = new Engine({ store, random: () => 0.5, ...options, clock }).register(...workflows);
  await engine.start();

  /**
   * Handlers running now: a running handler holds the lease on its work row until its result is
   * committed, and once the engine is idle no claim or result is waiting for a commit.
   */
  async function runningHandlers(): Promise<number> {
    let running = 0;
    let cursor: string | undefined;
    do {
      const page = await store.listExecutions({ status: ExecutionStatus.RUNNING, limit: 500, cursor });
      for (const execution of page.items) {
        running += (await store.listWork(execution.id)).filter((w) => w.kind !== 'timer' && w.leaseOwner !== undefined && w.leaseOwner !== null).length;
      }
      cursor = page.nextCursor;
    } while (cursor);
    return running;
  }

  /** Resolves once only moving the clock can make progress: the engine is idle and every running handler sleeps on the clock. */
  async function settle(): Promise<void> {
    const since = Date.now();
    let confirmed = false;
    for (;;) {
      await engine.idle({ handlerGraceMs: 0 });
      const running = await runningHandlers();
      if (running === clock.sleepers) {
        // No handler works in real time, so nothing can change but what the engine still had in
        // hand when it was asked: one more idle pass settles that, and a second count confirms.
        if (confirmed) return;
        confirmed = true;
        continue;
      }
      confirmed = false;
      if (Date.now() - since > STUCK_AFTER_MS) {
        throw new Error(
          `${running} handler(s) running and ${clock.sleepers} sleeping on the virtual clock after ${STUCK_AFTER_MS} ms of real time: `
          + 'a handler that waits for virtual time (its timeout, a delay) must wait with clock.sleep(ms?, ctx.signal)',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Moves the (settled) clock to its next pending timer; false when none is pending. */
  async function fireNextTimer(): Promise<boolean> {
    const next = clock.nextTimerAt();
    if (next === undefined) return false;
    await clock.advance(Math.max(0, next - clock.now()));
    return true;
  }

  /** Settles, then moves the clock to the next pending timer; false when no timer is pending. */
  async function advanceToNextTimer(): Promise<boolean> {
    await settle();
    return fireNextTimer();
  }

  /** Runs until the execution ends, moving the virtual clock to each next timer. */
  async function runToEnd(id: string, maxTimers = 10_000): Promise<ExecutionSummary> {
    for (let i = 0; i < maxTimers; i++) {
      await settle();
      const execution = await engine.getExecution(id);
      if (execution.status !== ExecutionStatus.RUNNING) return execution;
      if (!(await fireNextTimer())) throw new Error(`execution ${id} is stuck: RUNNING with no timer pending`);
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

  return { engine, clock, store, start, settle, advanceToNextTimer, runToEnd, history, close };
}

/** "type:step" for each event, to compare sequences readably. */
export function trace(events: HistoryEvent[], types?: string[]): string[] {
  return events.filter((e) => !types || types.includes(e.type)).map((e) => (e.step ? `${e.type}:${e.step}` : e.type));
}
