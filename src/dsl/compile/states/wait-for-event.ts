import { StepErrorCodes, type StepError } from '../../../core/errors.js';
import type { StateDef } from '../../definition.js';
import { stepKey, type MailboxEvent, type WorkflowContext } from '../../machine-types.js';
import { visit } from '../entry-actions.js';
import { failureRoutes, faultRoutes, retryRoute } from '../failure-routes.js';
import { onComplete, type CompileContext } from '../flow.js';
import { assign, command, enqueueActions, type Args, type StateConfig } from '../machine-setup.js';
import { applyResult, copyOf, dueOf, safely } from '../transition-helpers.js';

type WaitForEvent = Extract<StateDef, { type: 'waitForEvent' }>;

/**
 * A waitForEvent state takes the first event of its name from the execution's mailbox (every
 * delivered event lands there first, see `receiveEvent`), at once when one is already there, or
 * as soon as one arrives: an eventless transition guarded on the mailbox, so early and on-time
 * events take the same path. Taking one asks for `eventConsumed` (as data, recorded as
 * EventConsumed). An optional durable timer bounds the wait; when it fires the state fails with
 * Stepwise.Timeout, which retry rules (wait again) and catch rules match.
 */
export function compileWaitForEvent(ctx: CompileContext, state: WaitForEvent): StateConfig {
  const name = state.name;
  const scope = ctx.info(name).scope;
  const key = (c: WorkflowContext) => stepKey(name, c.visits[name] ?? 1);
  const mine = ({ context, event }: Args) => event.type === 'TIMER_FIRED' && event.key === key(context);
  const timeout = (): StepError => ({ code: StepErrorCodes.Timeout, message: `no event '${state.event}' arrived within the wait of state '${name}'` });
  const bounded = state.timeoutMs !== undefined || state.until !== undefined;
  const startTimer = enqueueActions(({ context, enqueue }) => {
    const due = context.timers[key(context)];
    if (due && !context.faults[name]) enqueue({ type: 'startTimer', params: { key: key(context), step: name, ...due } });
  });
  return {
    id: name,
    entry: [
      visit(name),
      command('entered', () => ({ step: name })),
      assign(({ context }) => {
        const k = key(context);
        const data = copyOf(context.data[scope]);
        const due = bounded ? safely(() => dueOf({ type: 'wait', name, durationMs: state.timeoutMs, until: state.until }, data)) : undefined;
        if (due && !due.ok) return { faults: { ...context.faults, [name]: due.error } };
        const corr = state.key ? safely(() => correlationOf(name, state.key!(data))) : undefined;
        if (corr && !corr.ok) return { faults: { ...context.faults, [name]: corr.error } };
        return {
          spins: 0,
          attempts: { ...context.attempts, [k]: 0 },
          timers: due ? { ...context.timers, [k]: due.value } : context.timers,
          ...(corr ? { eventKeys: { ...context.eventKeys, [k]: corr.value as string } } : {}),
        };
      }),
      startTimer,
    ],
    exit: [
      ...(bounded ? [command('cancelWork', ({ context }) => ({ kind: 'timer', keys: [key(context)] }))] : []),
      assign(({ context }) => {
        const k = key(context);
        const { [k]: _timer, ...timers } = context.timers;
        if (!context.eventKeys || !(k in context.eventKeys)) return { timers };
        // Leaving to take a matching event (exit actions run before the transition's): the taking
        // action still needs the key to find it, and drops it itself.
        if (matchIndex(context, state.event, k) !== -1) return { timers };
        const { [k]: _key, ...eventKeys } = context.eventKeys;
        return { timers, eventKeys };
      }),
    ],
    always: [
      ...faultRoutes(ctx, name, state.catch),
      {
        guard: ({ context }) => !context.faults[name] && matchIndex(context, state.event, key(context)) !== -1,
        ...onComplete(ctx, name, [enqueueActions(({ context, enqueue }) => {
          const mailbox = context.mailbox ?? [];
          const i = matchIndex(context, state.event, key(context));
          const taken = mailbox[i]!;
          const { [key(context)]: _key, ...eventKeys } = context.eventKeys ?? {};
          enqueue.assign({
            mailbox: [...mailbox.slice(0, i), ...mailbox.slice(i + 1)],
            data: { ...context.data, [scope]: applyResult(context.data[scope], state.resultPath, taken.payload) },
            ...(context.eventKeys ? { eventKeys } : {}),
          });
          enqueue({ type: 'eventConsumed', params: { key: key(context), step: name, id: taken.id, name: taken.name, payload: taken.payload } });
        })]),
      },
    ],
    on: {
      TIMER_FIRED: [
        {
          ...retryRoute(state.retry, mine, timeout, (c) => ({ key: key(c), step: name })),
          // A retry of a wait waits again, for the same time, on the same timer key.
          actions: [
            assign(({ context }) => ({ attempts: { ...context.attempts, [key(context)]: (context.attempts[key(context)] ?? 0) + 1 } })),
            assign(({ context }) => {
              const due = safely(() => dueOf({ type: 'wait', name, durationMs: state.timeoutMs, until: state.until }, copyOf(context.data[scope])));
              return due.ok ? { timers: { ...context.timers, [key(context)]: due.value } } : {};
            }),
            startTimer,
          ],
        },
        ...failureRoutes(ctx, name, timeout, mine, state.catch),
      ],
    },
  };
}

/**
 * The index of the first mailbox event this wait takes: its name, and either no correlation key
 * (sent to this execution by id) or the wait's own key.
 */
function matchIndex(c: WorkflowContext, event: string, k: string): number {
  const waitKey = c.eventKeys?.[k];
  return (c.mailbox ?? []).findIndex((e: MailboxEvent) => e.name === event && (e.key === undefined || e.key === waitKey));
}

function correlationOf(state: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new Error(`waitForEvent '${state}': key ${JSON.stringify(value)} is not a string of 1-256 characters`);
  }
  return value;
}

/**
 * The root's handler of EVENT_RECEIVED: every delivered event is appended to the mailbox and its
 * id remembered (a repeated id never reaches the machine: the engine checks `received` first).
 */
export function receiveEvent() {
  return assign(({ context, event }) => {
    if (event.type !== 'EVENT_RECEIVED') return {};
    const kept: MailboxEvent = { id: event.id, name: event.name, payload: event.payload ?? null };
    if (event.correlation !== undefined) kept.key = event.correlation;
    return { mailbox: [...(context.mailbox ?? []), kept], received: [...(context.received ?? []), event.id] };
  });
}
