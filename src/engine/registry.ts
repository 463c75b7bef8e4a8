import { StepwiseError } from '../core/errors.js';
import type { Workflow, WorkflowDescription } from '../dsl/workflow.js';
import { workerBinding } from '../handlers/remote-steps.js';

/**
 * The workflows this process can run, by name and version. New executions use the last
 * registered version of a name; an execution continues on the version it started with, which
 * must be registered here for this process to run its steps.
 */
export class WorkflowRegistry {
  private readonly versions = new Map<string, Map<string, Workflow>>();
  private readonly latest = new Map<string, Workflow>();

  register(wf: Workflow): void {
    const byVersion = this.versions.get(wf.name) ?? new Map<string, Workflow>();
    byVersion.set(wf.version, wf);
    this.versions.set(wf.name, byVersion);
    this.latest.set(wf.name, wf);
  }

  /** The version new executions of `name` start on; WORKFLOW_NOT_FOUND when none is registered. */
  latestNamed(name: string): Workflow {
    const wf = this.latest.get(name);
    if (!wf) throw new StepwiseError('WORKFLOW_NOT_FOUND', `no workflow named '${name}' is registered`, { workflow: name });
    return wf;
  }

  /** The version new executions of `name` start on, if one is registered. */
  latestOf(name: string): Workflow | undefined {
    return this.latest.get(name);
  }

  /** The exact version an execution runs on, if this process has it. */
  version(name: string, version: string): Workflow | undefined {
    return this.versions.get(name)?.get(version);
  }

  /** Whether a step of any registered version is bound to worker queue `queue`. */
  hasQueue(queue: string): boolean {
    for (const byVersion of this.versions.values()) {
      for (const wf of byVersion.values()) {
        for (const info of wf.index.values()) {
          const s = info.state;
          if ((s.type === 'task' || s.type === 'map') && (workerBinding(s.handler)?.queue === queue || workerBinding(s.compensation?.handler)?.queue === queue)) return true;
        }
      }
    }
    return false;
  }

  describeAll(): WorkflowDescription[] {
    return [...this.latest.values()].map((wf) => wf.describe());
  }
}
