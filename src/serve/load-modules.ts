/**
 * Loads workflow modules: ES modules whose exports include built workflows (every exported
 * Workflow, and the items of a default-exported array). Workflows are recognised by their brand,
 * not `instanceof`: a module may build them with another copy of the package (its sources
 * through tsx, or its own install) than the one serving them.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { WORKFLOW_BRAND, WORKFLOW_BRAND_REVISION, isWorkflow, type Workflow } from '../dsl/workflow.js';
import { firstLine } from './config-file.js';
import { importModule } from './import-module.js';
import { ServeError } from './serve-error.js';

function bad(message: string): never {
  throw new ServeError('BAD_MODULE', message);
}

/** An unbuilt sequence: what `workflow(...)...` is before `.build()`. */
function looksUnbuilt(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { build?: unknown }).build === 'function' && Array.isArray((value as { states?: unknown }).states);
}

function checkRevision(wf: Workflow, where: string): Workflow {
  const revision = (wf as unknown as Record<symbol, unknown>)[WORKFLOW_BRAND];
  if (revision !== WORKFLOW_BRAND_REVISION) {
    bad(`${where}: workflow '${wf.name}' was built by an incompatible Stepwise (workflow revision ${String(revision)}, this server reads ${WORKFLOW_BRAND_REVISION})`);
  }
  return wf;
}

/**
 * The workflows a module exports, in a defined order: the default array's, in its order, then
 * the named exports. Two versions of one name among the named exports are refused: a module
 * namespace lists its names alphabetically, so which one is the newest would be an accident.
 */
export function workflowsOf(mod: Record<string, unknown>, where: string): Workflow[] {
  const found: Workflow[] = [];
  const add = (wf: Workflow) => {
    if (!found.includes(wf)) found.push(checkRevision(wf, where));
  };
  const fromDefault = new Set<Workflow>();
  if (Array.isArray(mod.default)) {
    mod.default.forEach((item, i) => {
      if (!isWorkflow(item)) {
        bad(`${where}: item ${i} of the default export is not a built workflow${looksUnbuilt(item) ? ' (did you forget .build()?)' : ''}`);
      }
      fromDefault.add(item);
      add(item);
    });
  }
  const named = new Map<string, string>();
  for (const [key, value] of Object.entries(mod)) {
    if (!isWorkflow(value) || fromDefault.has(value)) continue;
    const clash = found.find((wf) => wf.name === value.name && wf.version !== value.version);
    if (clash) {
      bad(
        `${where}: exports two versions of workflow '${value.name}' (${named.get(value.name) ?? 'the default export'} and ${key}); ` +
          'export a default array ordered oldest first, so the newest is the one new executions use',
      );
    }
    named.set(value.name, key);
    add(value);
  }
  if (found.length === 0) {
    const unbuilt = Object.entries(mod).filter(([, v]) => looksUnbuilt(v)).map(([k]) => k);
    bad(
      `${where} exports no workflow: export each built workflow (export const order = workflow('order')...build()), or a default array of them` +
        (unbuilt.length > 0 ? `; ${unbuilt.join(', ')} ${unbuilt.length === 1 ? 'is' : 'are'} not built (did you forget .build()?)` : ''),
    );
  }
  return found;
}

/** Loads the modules in order; every problem is a BAD_MODULE ServeError naming the module. */
export async function loadWorkflowModules(paths: readonly string[], cwd: string): Promise<Workflow[]> {
  const workflows: Workflow[] = [];
  for (const given of paths) {
    const path = resolve(cwd, given);
    if (!existsSync(path)) bad(`cannot find workflow module ${given} (looked for ${path})`);
    if (!statSync(path).isFile()) bad(`workflow module ${given} is not a file`);
    let mod: Record<string, unknown>;
    try {
      mod = await importModule(path);
    } catch (err) {
      bad(`cannot load workflow module ${given}: ${firstLine(err)}`);
    }
    workflows.push(...workflowsOf(mod, given));
  }
  return workflows;
}
