import { createHash } from 'node:crypto';
import type { AnyStateMachine } from 'xstate';
import type { ResolvedRetryPolicy } from '../core/retry-policy.js';
import { StepwiseError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import { compileMachine } from './compile.js';
import type { Handler, ResolvedCompensation, StateDef, WorkflowDefinition } from './definition.js';
import { describeStates, toMermaid, type StateDescription } from './describe.js';
import { compileInputSchema, type CompiledInputSchema, type JsonSchema } from './input-schema.js';
import type { StateInfo } from './scopes.js';
import { validateDefinition } from './validate.js';

/** What the engine needs to run one step: its handler and policies, found by state name. */
export interface StepRuntime {
  state: StateDef;
  handler: Handler;
  timeoutMs: number;
  retry: ResolvedRetryPolicy[];
  compensation?: ResolvedCompensation;
}

export interface WorkflowDescription {
  name: string;
  version: string;
  startAt: string;
  states: StateDescription[];
  mermaid: string;
  /** The compiled xstate machine's definition as JSON (functions left out). */
  machine: unknown;
  /** The input's JSON Schema, when the workflow declares one. */
  input?: JsonSchema;
}

/**
 * Marks a Workflow so that it is recognised across copies of the package: `stepwise serve` may
 * run the compiled package while a user's module, loaded through a TypeScript loader, builds its
 * workflows with another copy (its sources, or its own install), where `instanceof` fails.
 * The value is the revision of the shape the engine relies on.
 */
export const WORKFLOW_BRAND = Symbol.for('stepwise.workflow');
export const WORKFLOW_BRAND_REVISION = 1;

/** True for a built workflow of any copy of the package (see WORKFLOW_BRAND). */
export function isWorkflow(value: unknown): value is Workflow {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[WORKFLOW_BRAND] !== undefined;
}

/**
 * A checked, compiled workflow: its definition, its xstate machine and its version: a content
 * hash of the definition's structure, or the `version` given to `workflow(name, { version })`.
 * Changing a choice rule or transform in a way running executions must not see calls for an
 * explicit new version (register both; each execution finishes on its own).
 */
export class Workflow<In = unknown> {
  readonly name: string;
  readonly version: string;
  readonly definition: WorkflowDefinition;
  readonly machine: AnyStateMachine;
  /** @internal */
  readonly index: Map<string, StateInfo>;
  private readonly compensations = new Map<string, ResolvedCompensation>();
  private readonly inputSchema: CompiledInputSchema | undefined;
  readonly [WORKFLOW_BRAND] = WORKFLOW_BRAND_REVISION;
  /** Phantom: the execution input's type. */
  declare readonly __input?: In;

  constructor(definition: WorkflowDefinition) {
    this.index = validateDefinition(definition);
    this.definition = definition;
    this.name = definition.name;
    this.machine = compileMachine(definition, this.index);
    this.version = definition.version ?? versionOf(definition);
    this.inputSchema = definition.input === undefined ? undefined : compileInputSchema(definition.input, definition.name);
    for (const info of this.index.values()) {
      const s = info.state;
      if ((s.type === 'task' || s.type === 'map') && s.compensation) this.compensations.set(s.compensation.name, s.compensation);
    }
  }

  /** The state named `name`, if it is a task or map (what a work row runs). */
  step(name: string): StepRuntime | undefined {
    const s = this.index.get(name)?.state;
    if (s && (s.type === 'task' || s.type === 'map')) {
      return { state: s, handler: s.handler, timeoutMs: s.timeoutMs, retry: s.retry, ...(s.compensation ? { compensation: s.compensation } : {}) };
    }
    return undefined;
  }

  /**
   * Refuses an input that does not match the workflow's schema with VALIDATION_FAILED naming the
   * first mismatch (`details.path` is a JSON Pointer). The engine calls it on every start.
   */
  async checkInput(input: unknown): Promise<void> {
    const mismatch = await this.inputSchema?.check(input);
    if (mismatch) throw new StepwiseError('VALIDATION_FAILED', mismatch.message, { field: 'input', path: mismatch.path, workflow: this.name });
  }

  compensation(name: string): ResolvedCompensation | undefined {
    return this.compensations.get(name);
  }

  /** The plain-JSON description served by the API and drawn by the history page. */
  describe(): WorkflowDescription {
    return {
      name: this.name,
      version: this.version,
      startAt: this.definition.states[0].name,
      states: describeStates(this.definition.states),
      mermaid: toMermaid(this.definition.states),
      machine: JSON.parse(JSON.stringify(this.machine.definition)),
      ...(this.inputSchema ? { input: this.inputSchema.jsonSchema } : {}),
    };
  }

  toMermaid(): string {
    return toMermaid(this.definition.states);
  }
}

/**
 * The structure's hash: state names, types, edges, policies, labels and options. Functions count
 * only by their presence: their source text differs between compilers (tsc, esbuild, a minifier)
 * for the same definition, and a version must not change because the build tool did.
 */
function versionOf(def: WorkflowDefinition): string {
  const shape = JSON.parse(JSON.stringify(def.states, (_key, value) => (typeof value === 'function' ? '[function]' : value)));
  return createHash('sha256').update(canonicalJson({ name: def.name, states: shape })).digest('hex').slice(0, 16);
}

/**
 * A workflow of any input type, for registries that hold many (`Workflow<Order>` must fit where
 * this is expected, which `Workflow<unknown>` would refuse: the input type is contravariant).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the variance escape hatch described above
export type AnyWorkflow = Workflow<any>;
