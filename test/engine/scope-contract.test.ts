/**
 * The contract of decide.ts's cached scope: `cachedInitialTransition` and `cachedTransition` decide
 * exactly as xstate's public `initialTransition()` and `transition()` do. Machines of every state
 * kind (test/helpers/state-kinds.ts) and the property tests' generated definitions are driven
 * through both, with random outcomes, cancels, stale events and snapshots restored from JSON, and
 * every decision must give the same persisted snapshot and the same actions.
 * An xstate upgrade that changes what the cached scope relies on fails here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot, type ExecutableActionObject } from 'xstate';
import { cachedInitialTransition, cachedTransition, persist, restore, type Snapshot } from '../../src/engine/decide.js';
import type { Workflow } from '../../src/index.js';
import { build, inputArb, nameAll, specArb } from '../helpers/generated-definitions.js';
import { comparable, seededRandom, WorkDriver } from '../helpers/machine-driver.js';
import { stateKindCases } from '../helpers/state-kinds.js';

const SEED = Number(process.env.STEPWISE_FC_SEED ?? 20_261_126);
const MAX_EVENTS = 300;

type Decided = [AnyMachineSnapshot, ExecutableActionObject[]];

/** One execution decided both ways, side by side. */
class Lockstep {
  private cached: AnyMachineSnapshot;
  private reference: AnyMachineSnapshot;
  private readonly driver: WorkDriver;
  private readonly random: () => number;
  events = 0;

  constructor(private readonly wf: Workflow<any>, input: unknown, seed: number) {
    this.random = seededRandom(seed);
    this.driver = new WorkDriver(seededRandom(seed + 1));
    const cached = cachedInitialTransition(wf.machine, input);
    const reference = initialTransition(wf.machine, input) as Decided;
    this.cached = cached[0];
    this.reference = reference[0];
    this.compare(cached, reference, 'initial transition');
  }

  get done(): boolean {
    // '$failed' is not a final state (a redrive may leave it), but nothing else happens there.
    return this.cached.status !== 'active' || this.cached.matches('$failed') || this.events >= MAX_EVENTS;
  }

  get snapshot(): AnyMachineSnapshot {
    return this.cached;
  }

  /** Sends the next event both ways; false when nothing is left to answer. */
  step(): boolean {
    const event = this.driver.next();
    if (!event) return false;
    this.events++;
    if (this.random() < 0.1) {
      // The engine decides on snapshots read back from the store as often as on live ones.
      this.cached = restore(this.wf, JSON.parse(JSON.stringify(persist(this.cached as Snapshot))));
      this.reference = restore(this.wf, JSON.parse(JSON.stringify(persist(this.reference as Snapshot))));
    }
    const cached = cachedTransition(this.wf.machine, this.cached, event);
    const reference = transition(this.wf.machine, this.reference, event) as Decided;
    this.cached = cached[0];
    this.reference = reference[0];
    this.compare(cached, reference, `event ${this.events} ${JSON.stringify(event)}`);
    return true;
  }

  private compare(cached: Decided, reference: Decided, when: string): void {
    const mine = comparable(cached[0], cached[1]);
    const theirs = comparable(reference[0], reference[1]);
    // Both are plain JSON, so equal text is equal data; expect() runs only for its diff.
    if (JSON.stringify(mine) !== JSON.stringify(theirs)) expect(mine, `${this.wf.name}, ${when}`).toStrictEqual(theirs);
    this.driver.observe(cached[1]);
  }
}

/** Runs executions of one workflow interleaved, so they share its cached scope; returns how they ended. */
function runInterleaved(wf: Workflow<any>, runs: Array<{ input: unknown; seed: number }>): Lockstep[] {
  return driveInterleaved(runs.map((r) => new Lockstep(wf, r.input, r.seed)));
}

function driveInterleaved(all: Lockstep[]): Lockstep[] {
  let live = all.filter((x) => !x.done);
  while (live.length > 0) {
    live = live.filter((x) => x.step() && !x.done);
  }
  return all;
}

function endOf(x: Lockstep): string {
  // '$failed' is not a final state (a redrive may leave it), so it ends an execution while active.
  return x.snapshot.status === 'active' && !x.snapshot.matches('$failed') ? 'active' : JSON.stringify(x.snapshot.value);
}

describe('the cached scope decides as xstate transition() does', () => {
  it('for machines of every state kind, with retries, catches, compensations, cancels, timeouts and restores', () => {
    const ends = new Map<string, number>();
    let events = 0;
    for (const { wf, inputs } of stateKindCases()) {
      for (const [i, input] of inputs.entries()) {
        // An execution that ends in its initial transition ends the same for every seed. (The
        // endless-loop case takes seconds to get there: 10,000 microsteps, decided only once each way.)
        const first = new Lockstep(wf, input, SEED + 100 * i);
        const more = first.done ? [] : Array.from({ length: 39 }, (_, s) => new Lockstep(wf, input, SEED + 100 * i + s + 1));
        for (const x of driveInterleaved([first, ...more])) {
          ends.set(endOf(x), (ends.get(endOf(x)) ?? 0) + 1);
          events += x.events;
        }
      }
    }
    // The drive reached every way an execution ends, and is not a handful of events.
    for (const end of ['"$succeeded"', '"$failed"', '"$cancelled"']) expect(ends.get(end) ?? 0, end).toBeGreaterThan(0);
    expect(events).toBeGreaterThan(1500);
  }, 120_000); // pure CPU, some seconds on a quiet machine: a loaded CI core must not fail it

  it(`for the property tests' generated definitions (seed ${SEED})`, () => {
    let events = 0;
    let n = 0;
    fc.assert(
      fc.property(fc.tuple(specArb, inputArb, fc.integer()), ([spec, input, seed]) => {
        const wf = build(`contract${n++}`, nameAll(spec).root, { onCall() {} });
        for (const x of runInterleaved(wf, [{ input, seed }, { input, seed: seed ^ 0x5bd1 }])) events += x.events;
      }),
      { seed: SEED, numRuns: 200 },
    );
    expect(events).toBeGreaterThan(500);
  });
});
