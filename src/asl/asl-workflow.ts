/**
 * `aslWorkflow(name, definition, { handlers })`: an Amazon States Language definition as a
 * Stepwise Workflow, checked (AslDefinitionError naming the state and field) and translated to
 * the DSL, so the engine runs it like any other workflow.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/json.js';
import { workflow } from '../dsl/builder.js';
import type { Workflow } from '../dsl/workflow.js';
import type { AslHandlers } from './resources.js';
import { Translator } from './translate.js';
import type { AslMachine } from './types.js';
import { AslDefinitionError, validateAsl } from './validate.js';
import { executionArn, stateMachineArn } from './arns.js';

export interface AslWorkflowOptions {
  /** Handlers by name: a Task's Resource `NAME` or `arn:aws:lambda:…:function:NAME` calls `handlers.NAME`. */
  handlers?: AslHandlers;
  /**
   * How Wait states and retry delays inside a Map iteration wait (they run in process, see
   * docs/step-functions.md). @default a real timer, cut short by the step's AbortSignal
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The clock `$$.Execution.StartTime` and `$$.State.EnteredTime` read. @default Date.now */
  now?: () => number;
}

export interface CompiledAsl {
  workflow: Workflow<unknown>;
  definition: AslMachine;
  /** DSL state name → ASL state name, for the states that stand for an ASL state. */
  stateNames: Map<string, string>;
  /** DSL states the translation added (joins, catch routes, re-raises). */
  synthetic: Set<string>;
}

function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The version an ASL workflow records: a hash of its definition text's structure. */
export function aslVersion(definition: unknown): string {
  return `asl-${createHash('sha256').update(canonicalJson(definition)).digest('hex').slice(0, 16)}`;
}

export function compileAsl(name: string, definition: unknown, options: AslWorkflowOptions = {}): CompiledAsl {
  const machine = validateAsl(typeof definition === 'string' ? parseDefinition(definition) : definition);
  const translator = new Translator({
    handlers: options.handlers ?? {},
    stateMachineArn: stateMachineArn(name),
    executionArn: (id) => executionArn(name, id),
    sleep: options.sleep ?? realSleep,
    now: options.now ?? Date.now,
  });
  // The version hashes the ASL text: the DSL's structural hash cannot see what transforms do.
  const seq = workflow(name, { version: aslVersion(machine) });
  translator.root(seq, machine, name);
  return { workflow: seq.build(), definition: machine, stateNames: translator.stateNames, synthetic: translator.synthetic };
}

/** An ASL definition (object or JSON text) as a Workflow the engine can register. */
export function aslWorkflow(name: string, definition: unknown, options: AslWorkflowOptions = {}): Workflow<unknown> {
  return compileAsl(name, definition, options).workflow;
}

function parseDefinition(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AslDefinitionError(`the definition is not valid JSON: ${(error as Error).message}`);
  }
}
