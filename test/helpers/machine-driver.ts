/**
 * Drives a compiled workflow machine without an engine: it keeps the work the machine asked for
 * (tasks, timers, compensations) and answers it in an order and with outcomes picked by a seeded
 * random source, with now and then a cancel, a stale or unknown event, or a snapshot restored from
 * its JSON. Tests use it to run the same machine through two ways of deciding and compare them.
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { WorkflowCommand, WorkflowEvent } from '../../src/dsl/machine-types.js';

/** The parts of an xstate action that say what it asks for (the engine reads only these). */
export interface ActionData {
  type: string;
  params: unknown;
}

type WorkKind = 'task' | 'timer' | 'compensation';

const OUTPUTS: unknown[] = [null, { items: [1, 2, 3] }, { items: [] }, { v: 1 }, [1, 2], 'text', { items: 'no' }, { loopN: 5 }];
const FAILURES = [
  { code: 'E1', message: 'e1' },
  { code: 'E2', message: 'e2' },
  { code: 'T1', message: 'terminal', terminal: true },
  { code: 'F1', message: 'f1' },
  { code: 'Stepwise.Timeout', message: 'timed out' },
  { code: 'Stepwise.OutputNotJson', message: 'not JSON', terminal: true },
];

/** A seeded generator (the torture run's mulberry32), so a failing seed replays exactly. */
export { mulberry32 as seededRandom } from '../fixtures/torture.js';

export class WorkDriver {
  /** Outstanding work by `kind:key`, in the order it was asked for. */
  private readonly pending = new Map<string, { kind: WorkKind; key: string }>();
  /** Every piece of work ever asked for, for stale answers. */
  private readonly seen: Array<{ kind: WorkKind; key: string }> = [];
  private cancelled = false;

  constructor(private readonly random: () => number) {}

  /** Records what the machine asked for in its last decision. */
  observe(actions: ActionData[]): void {
    for (const action of actions) {
      const command = action as WorkflowCommand;
      switch (command.type) {
        case 'runTask':
        case 'retryTask':
          this.add('task', command.params.key);
          break;
        case 'startTimer':
          this.add('timer', command.params.key);
          break;
        case 'runCompensation':
        case 'retryCompensation':
          this.add('compensation', command.params.key);
          break;
        case 'cancelWork':
          for (const key of command.params.keys) this.pending.delete(`${command.params.kind}:${key}`);
          break;
      }
    }
  }

  /** The next event to send, or undefined when nothing is outstanding. */
  next(): WorkflowEvent | undefined {
    const r = this.random();
    if (r < 0.02 && !this.cancelled) {
      this.cancelled = true;
      return { type: 'CANCEL' };
    }
    if (r < 0.09 && this.seen.length > 0) return this.answer(this.pick(this.seen));
    if (r < 0.1) return { type: 'STEP_SUCCEEDED', key: 'nowhere', output: null };
    const open = [...this.pending.values()];
    if (open.length === 0) return undefined;
    const work = this.pick(open);
    this.pending.delete(`${work.kind}:${work.key}`);
    return this.answer(work);
  }

  private add(kind: WorkKind, key: string): void {
    this.pending.set(`${kind}:${key}`, { kind, key });
    this.seen.push({ kind, key });
  }

  private answer(work: { kind: WorkKind; key: string }): WorkflowEvent {
    const { kind, key } = work;
    if (kind === 'timer') return { type: 'TIMER_FIRED', key };
    if (kind === 'compensation') {
      return this.random() < 0.7 ? { type: 'COMPENSATION_SUCCEEDED', key } : { type: 'COMPENSATION_FAILED', key, error: { code: 'C1', message: 'undo failed' } };
    }
    return this.random() < 0.75 ? { type: 'STEP_SUCCEEDED', key, output: this.pick(OUTPUTS) } : { type: 'STEP_FAILED', key, error: this.pick(FAILURES) };
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }
}

/** What a decision is compared by: the persisted snapshot (JSON) and the actions. */
export function comparable(snapshot: AnyMachineSnapshot, actions: ActionData[]): unknown {
  return JSON.parse(JSON.stringify({
    snapshot: snapshot.machine.getPersistedSnapshot(snapshot),
    actions: actions.map((a) => ({ type: a.type, params: a.params })),
  }));
}
