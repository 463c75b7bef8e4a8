/**
 * Time, injected. The engine never calls Date.now() or setTimeout directly, so tests drive a
 * VirtualClock and a three-day wait takes no time at all.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}
export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

/** Node fires a timer of more than 2^31-1 ms (24.8 days) after 1 ms; longer delays are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface ChainedTimer {
  id: number;
  current?: ReturnType<typeof setTimeout>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    // The common case (every handler run arms one): Node's own timer, no chain to keep.
    if (ms <= MAX_TIMER_MS) return setTimeout(fn, Math.max(0, ms));
    const chained: ChainedTimer = { id: 0 };
    const arm = (left: number) => {
      chained.current = setTimeout(left > MAX_TIMER_MS ? () => arm(left - MAX_TIMER_MS) : fn, Math.min(Math.max(0, left), MAX_TIMER_MS));
    };
    arm(ms);
    return chained;
  },
  clearTimeout: (handle) => clearTimeout('current' in handle ? (handle as ChainedTimer).current : (handle as ReturnType<typeof setTimeout>)),
};

interface VirtualTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock that moves only when told to. Timers fire in due order as `advance` passes them. */
export class VirtualClock implements Clock {
  private current: number;
  private timers: VirtualTimer[] = [];
  private nextId = 1;
  private sleeping = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    const id = (handle as { id: number }).id;
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  /**
   * For handlers under test that wait on this clock: resolves after `ms` of virtual time (never,
   * without `ms`) or as soon as `signal` aborts (pass the step's signal: its timeout, a cancel).
   * While it waits it counts in `sleepers`, so a test driver can tell a handler that only moving
   * the clock can wake from one still working in real time, and never moves time under the latter.
   */
  sleep(ms?: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      let awake = false;
      let timer: TimerHandle | undefined;
      const wake = () => {
        if (awake) return;
        awake = true;
        this.sleeping--;
        if (timer) this.clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      this.sleeping++;
      if (ms !== undefined) timer = this.setTimeout(wake, ms);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** How many `sleep` calls are waiting now. */
  get sleepers(): number {
    return this.sleeping;
  }

  /** When the earliest pending timer is due, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
      await settle();
    }
    this.current = target;
    await settle();
  }
}

/** Lets pending promise callbacks and immediates run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
