import {
  assign as xstateAssign, setup, type Action, type DoneStateEvent, type EventObject, type MetaObject, type StateNodeConfig, type TransitionConfig,
} from 'xstate';
import type { WorkflowCommand, WorkflowContext, WorkflowEvent } from '../machine-types.js';

/** The commands a machine asks for, by type, as xstate's setup declares actions. */
type CommandParams = { [C in WorkflowCommand as C['type']]: C['params'] };

/**
 * The typed setup every compiled machine is made from: context, events and commands. Commands are
 * declared as types only, with no implementation: xstate hands them back as data (the engine
 * carries them out) and never runs anything itself.
 */
export const machineSetup = setup<
  WorkflowContext, WorkflowEvent, Record<never, never>, Record<never, never>, CommandParams, Record<never, never>, never, string, unknown
>({});

/** xstate's `assign` and `enqueueActions`, typed for the workflow context and events. */
export const assign: typeof machineSetup.assign = machineSetup.assign;
export const enqueueActions: typeof machineSetup.enqueueActions = machineSetup.enqueueActions;

/** A state node's configuration. */
export type StateConfig = StateNodeConfig<WorkflowContext, WorkflowEvent, never, WorkflowCommand, never, never, string, unknown, EventObject, MetaObject>;

/** A transition taken on event `E` (every workflow event by default; DoneStateEvent when a parallel state joins). */
export type Route<E extends EventObject = WorkflowEvent> =
  TransitionConfig<WorkflowContext, E, WorkflowEvent, never, WorkflowCommand, never, never, EventObject, MetaObject>;

/** What an action, guard or command reads. */
export interface Args<E extends EventObject = WorkflowEvent> {
  context: WorkflowContext;
  event: E;
}

/** The events a state's own transitions see: workflow events, and the join of a parallel state. */
export type AnyEvent = WorkflowEvent | DoneStateEvent;

/** An action that only describes a command: xstate returns it as data and the engine carries it out. */
export function command<T extends WorkflowCommand['type']>(type: T, params: (args: Args) => Extract<WorkflowCommand, { type: T }>['params']) {
  return { type, params };
}

/**
 * `assign` for actions that read only the context, so they fit a transition on any event a state
 * sees (a parallel state's join included).
 */
export const assignOnAny = xstateAssign<WorkflowContext, AnyEvent, undefined, WorkflowEvent, never>;

/** An action of a route taken on event `E`. */
export type RouteAction<E extends EventObject = WorkflowEvent> =
  Action<WorkflowContext, E, WorkflowEvent, undefined, never, WorkflowCommand, never, never, EventObject>;
