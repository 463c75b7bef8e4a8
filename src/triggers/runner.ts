import { StepwiseError } from '../core/errors.js';
import { ExecutionStatus } from '../core/status.js';
import type { AmqpTrigger } from './amqp-trigger.js';
import { triggerIdPrefix } from './execution-id.js';
import type { NatsTrigger } from './nats-trigger.js';
import { RunningSet } from './running-set.js';
import type { RuntimeContext, TriggerRuntime } from './runtime-context.js';
import type { TriggerEvent, TriggerListener } from './trigger-events.js';
import { silentTriggerLogger, type TriggerEngine, type TriggerLogger } from './trigger-engine.js';

/** A queue trigger a runner can run. */
export type QueueTrigger = NatsTrigger | AmqpTrigger;

export interface TriggerRunnerOptions {
  engine: TriggerEngine;
  triggers: readonly QueueTrigger[];
  logger?: TriggerLogger;
}

interface Running {
  trigger: QueueTrigger;
  set: RunningSet;
  runtime?: TriggerRuntime;
}

/**
 * Runs queue triggers next to an engine: `start()` checks them, counts the executions each
 * started before a restart that still run, and connects every trigger in the background
 * (a broker that is down is retried with backoff, it does not fail the start); `stop()` stops
 * taking messages, lets the ones being handled settle, and disconnects. Stop the runner before
 * the engine. The broker clients are loaded only when a trigger of that kind is run.
 */
export class TriggerRunner {
  private readonly engine: TriggerEngine;
  private readonly log: TriggerLogger;
  private readonly triggers: readonly QueueTrigger[];
  private readonly listeners = new Set<TriggerListener>();
  private readonly running: Running[] = [];
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(options: TriggerRunnerOptions) {
    this.engine = options.engine;
    this.log = options.logger ?? silentTriggerLogger;
    this.triggers = [...options.triggers];
    const seen = new Set<string>();
    for (const trigger of this.triggers) {
      if (trigger === null || typeof trigger !== 'object' || (trigger.kind !== 'nats' && trigger.kind !== 'amqp')) {
        throw new StepwiseError('INVALID_DEFINITION', 'TriggerRunner: every trigger must come from natsTrigger() or amqpTrigger()');
      }
      const key = `${trigger.kind}.${trigger.name}`;
      if (seen.has(key)) throw new StepwiseError('INVALID_DEFINITION', `TriggerRunner: two ${trigger.kind} triggers are named '${trigger.name}'`);
      seen.add(key);
    }
  }

  /** Subscribes to what the triggers report; returns the unsubscribe function. */
  on(listener: TriggerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Executions each trigger started that are still running, as this process counts them. */
  status(): Array<{ trigger: string; kind: QueueTrigger['kind']; running: number; maxRunning: number }> {
    return this.running.map(({ trigger, set }) => ({ trigger: trigger.name, kind: trigger.kind, running: set.running, maxRunning: trigger.maxRunning }));
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new StepwiseError('INVALID_DEFINITION', 'TriggerRunner: start() may be called once');
    this.state = 'started';
    const known = this.engine.listWorkflows ? new Set(this.engine.listWorkflows().map((w) => w.name)) : undefined;
    for (const trigger of this.triggers) {
      if (known && !known.has(trigger.workflow)) {
        throw new StepwiseError('WORKFLOW_NOT_FOUND', `${trigger.kind} trigger '${trigger.name}' starts workflow '${trigger.workflow}', which the engine does not have`);
      }
    }
    for (const trigger of this.triggers) {
      const entry: Running = { trigger, set: undefined as unknown as RunningSet };
      entry.set = new RunningSet({
        limit: trigger.maxRunning,
        engine: this.engine,
        log: this.log,
        trigger: trigger.name,
        onEnd: hasOutbound(trigger) ? (execution) => entry.runtime!.publishEnded!(execution) : undefined,
      });
      this.running.push(entry);
      await this.adoptRunning(entry);
    }
    for (const entry of this.running) {
      const context: RuntimeContext = { engine: this.engine, log: this.log, emit: (e) => this.emit(e), running: entry.set };
      entry.runtime = await runtimeFor(entry.trigger, context);
      if (this.state !== 'started') return; // stopped while loading a client
      entry.runtime.start();
    }
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    await Promise.all(this.running.map(async ({ runtime }) => runtime?.stop()));
    for (const { set } of this.running) set.stop();
  }

  private emit(event: TriggerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log.error({ err: error }, 'trigger event listener threw');
      }
    }
  }

  /**
   * Counts the trigger's executions still running from before a restart (found by the id
   * prefix every execution it starts carries), so that back-pressure holds across restarts and
   * their ends are still announced.
   */
  private async adoptRunning({ trigger, set }: Running): Promise<void> {
    const prefix = triggerIdPrefix(trigger.kind, trigger.name);
    let cursor: string | undefined;
    do {
      const page = await this.engine.listExecutions({ workflow: trigger.workflow, status: ExecutionStatus.RUNNING, limit: 500, ...(cursor ? { cursor } : {}) });
      for (const execution of page.items) if (execution.id.startsWith(prefix)) set.adopt(execution);
      cursor = page.nextCursor;
    } while (cursor);
  }
}

function hasOutbound(trigger: QueueTrigger): boolean {
  return trigger.kind === 'nats' ? trigger.outboundSubject !== undefined : trigger.outboundExchange !== undefined;
}

/** Loads a broker client only when a trigger needs it, so `import 'stepwise'` does not. */
async function runtimeFor(trigger: QueueTrigger, context: RuntimeContext): Promise<TriggerRuntime> {
  if (trigger.kind === 'nats') {
    const { NatsTriggerRuntime } = await import('./nats-runtime.js');
    return new NatsTriggerRuntime(trigger, context);
  }
  const { AmqpTriggerRuntime } = await import('./amqp-runtime.js');
  return new AmqpTriggerRuntime(trigger, context);
}
