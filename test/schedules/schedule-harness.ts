import { Engine, ScheduleRunner, VirtualClock, openStore, scheduleStoreFor, workflow, type Schedule, type ScheduleEvent, type Store, type Workflow } from '../../src/index.js';

/** A slot's start time, as the tests compute them: every minute from the virtual clock's start. */
export const T0 = Date.UTC(2026, 0, 1);
export const MINUTE = 60_000;

/** A workflow whose one step waits until the test opens its gate (or the execution is cancelled). */
export function gatedWorkflow(name = 'gated') {
  let open: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (open = resolve));
  const wf = workflow(name)
    .task('work', async (input: unknown, ctx) => {
      await Promise.race([gate, new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('cancelled'))))]);
      return { done: input };
    })
    .build();
  return {
    wf,
    open: () => open(),
    close: () => {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
  };
}

export const quick = workflow('quick').task('note', async (input: unknown) => ({ noted: input })).build();

/** An engine, a schedule runner and the events it reports, on a store and a virtual clock. */
export async function scheduleRig(options: { location?: string; clock?: VirtualClock; schedules?: Schedule[]; workflows?: Workflow<any>[]; store?: Store; pollIntervalMs?: number; maxInputBytes?: number }) {
  const clock = options.clock ?? new VirtualClock(T0);
  const store = options.store ?? (await openStore(options.location ?? ':memory:'));
  const engine = new Engine({ store, clock, random: () => 0.5, ...(options.maxInputBytes ? { maxInputBytes: options.maxInputBytes } : {}) });
  engine.register(...(options.workflows ?? [quick]));
  await engine.start();
  const runner = new ScheduleRunner({
    engine,
    store: scheduleStoreFor(store),
    clock,
    schedules: options.schedules ?? [],
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
  });
  const events: ScheduleEvent[] = [];
  runner.on((e) => events.push(e));
  await runner.start();
  await runner.idle();

  /** Moves the clock to `at`, one armed timer at a time, letting every wake finish. */
  async function advanceTo(at: number): Promise<void> {
    for (;;) {
      await runner.idle();
      await engine.idle({ handlerGraceMs: 20 });
      const next = clock.nextTimerAt();
      if (next === undefined || next > at) break;
      await clock.advance(Math.max(0, next - clock.now()));
    }
    if (clock.now() < at) await clock.advance(at - clock.now());
    await runner.idle();
    await engine.idle({ handlerGraceMs: 20 });
  }

  function fired(schedule?: string): string[] {
    return events.filter((e): e is Extract<ScheduleEvent, { type: 'fired' }> => e.type === 'fired' && (!schedule || e.schedule === schedule)).map((e) => e.executionId);
  }

  async function executionIds(): Promise<string[]> {
    return (await engine.listExecutions({ limit: 500 })).items.map((e) => e.id).sort();
  }

  async function close(): Promise<void> {
    await runner.stop();
    await engine.stop({ graceMs: 0 });
    if (!options.store) await store.close();
  }

  return { clock, store, engine, runner, events, advanceTo, fired, executionIds, close };
}

/** The slot id the runner uses for minute `n` after T0. */
export function slotId(schedule: string, n: number, base = T0): string {
  return `${schedule}@${new Date(base + n * MINUTE).toISOString()}`;
}
