/**
 * The state machines the AWS protocol serves: records in an AslRegistry, each revision compiled
 * and registered with the engine (so executions of an old revision finish on it after an update
 * or a restart), and the compiled form kept by version for history presentation.
 */
import type { ExecutionSummary } from '../../core/store.js';
import type { AnyWorkflow } from '../../dsl/workflow.js';
import type { ApiEngine } from '../../api/engine-port.js';
import { compileAsl, type AslWorkflowOptions, type CompiledAsl } from '../asl-workflow.js';
import type { AslRegistry, StateMachineRecord } from '../registry/registry.js';

/** What the protocol needs from the engine: the HTTP API's port, plus registering and waiting. */
export interface AslEngine extends ApiEngine {
  register(...workflows: AnyWorkflow[]): unknown;
  waitForEnd(id: string, timeoutMs?: number): Promise<ExecutionSummary>;
}

export class StateMachineCatalog {
  private readonly byVersion = new Map<string, CompiledAsl>();
  /** Activities made with CreateActivity, by name, with their creation time (kept in memory). */
  readonly activities = new Map<string, number>();
  /** How long GetActivityTask waits for a task (AWS: 60 s). */
  activityPollMs = 60_000;

  constructor(
    readonly engine: AslEngine,
    readonly registry: AslRegistry,
    private readonly options: AslWorkflowOptions,
  ) {}

  /** Registers every stored revision with the engine; a revision that no longer compiles is skipped and reported. */
  async load(): Promise<Array<{ name: string; version: string; error: string }>> {
    const problems: Array<{ name: string; version: string; error: string }> = [];
    for (const record of await this.registry.list()) {
      for (const revision of record.revisions) {
        try {
          this.install(record.name, revision.definition);
        } catch (error) {
          problems.push({ name: record.name, version: revision.version, error: (error as Error).message });
        }
      }
    }
    return problems;
  }

  /** Compiles (throwing AslDefinitionError) without registering. */
  compile(name: string, definition: string): CompiledAsl {
    return compileAsl(name, definition, this.options);
  }

  /** Compiles and registers a definition as the latest version of `name`. */
  install(name: string, definition: string): CompiledAsl {
    const compiled = this.compile(name, definition);
    this.byVersion.set(`${name}@${compiled.workflow.version}`, compiled);
    this.engine.register(compiled.workflow);
    return compiled;
  }

  compiled(name: string, version: string): CompiledAsl | undefined {
    return this.byVersion.get(`${name}@${version}`);
  }

  async record(name: string): Promise<StateMachineRecord | undefined> {
    return this.registry.get(name);
  }
}
