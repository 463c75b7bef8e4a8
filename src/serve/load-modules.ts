/**
 * Loads what `serve` serves from the modules it is given: ES modules (TypeScript runs as is)
 * whose exports hold workflows, triggers, webhooks, schedules and ASL handlers
 * (./module-exports.ts), and Amazon States Language files (`*.asl.json`, ./asl-files.ts). The
 * ASL files load last, once every module's handlers are known; their workflows keep their place
 * in the order the modules were named (the last version registered under a name is the newest).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AslHandlers } from '../asl/resources.js';
import type { Workflow } from '../dsl/workflow.js';
import type { Schedule } from '../schedules/schedule.js';
import type { QueueTrigger } from '../triggers/runner.js';
import type { Webhook } from '../triggers/webhook.js';
import { ASL_FILE, loadAslModule, type AslFile } from './asl-files.js';
import { firstLine } from './config-file.js';
import { importModule } from './import-module.js';
import { moduleExportsOf, type ModuleExports } from './module-exports.js';
import { ServeError } from './serve-error.js';

/** Everything to serve, with where each trigger, webhook, schedule and handler came from. */
export interface Served {
  workflows: Workflow[];
  triggers: QueueTrigger[];
  hooks: Webhook[];
  schedules: Schedule[];
  handlers: AslHandlers;
  aslFiles: AslFile[];
  /** For messages: the module (or config key) that defined each trigger, webhook or schedule. */
  origin: Map<object, string>;
}

function bad(message: string): never {
  throw new ServeError('BAD_MODULE', message);
}

/** Starts a set from what was given directly (serve()'s options or the config file). */
export interface GivenDefinitions {
  workflows?: readonly Workflow[];
  triggers?: readonly QueueTrigger[];
  hooks?: readonly Webhook[];
  schedules?: readonly Schedule[];
  handlers?: AslHandlers;
}

export function servedFrom(given: GivenDefinitions, where: string): Served {
  const served: Served = { workflows: [], triggers: [], hooks: [], schedules: [], handlers: {}, aslFiles: [], origin: new Map() };
  add(served, { workflows: [...(given.workflows ?? [])], triggers: [...(given.triggers ?? [])], hooks: [...(given.hooks ?? [])], schedules: [...(given.schedules ?? [])], handlers: given.handlers }, where, 'BAD_CONFIG');
  return served;
}

/** Adds one module's exports, refusing two definitions under one name (the same object twice is fine). */
function add(served: Served, found: ModuleExports, where: string, code: 'BAD_MODULE' | 'BAD_CONFIG' = 'BAD_MODULE'): void {
  const clash = (what: string, other: object) => {
    throw new ServeError(code, `${where}: ${what} is also defined by ${served.origin.get(other) ?? 'another module'}; names must be unique`);
  };
  served.workflows.push(...found.workflows);
  for (const t of found.triggers) {
    const other = served.triggers.find((o) => o !== t && o.kind === t.kind && o.name === t.name);
    if (other) clash(`${t.kind} trigger '${t.name}'`, other);
    if (!served.triggers.includes(t)) served.triggers.push(t);
    if (!served.origin.has(t)) served.origin.set(t, where);
  }
  for (const h of found.hooks) {
    const other = served.hooks.find((o) => o !== h && o.name === h.name);
    if (other) clash(`webhook '${h.name}'`, other);
    if (!served.hooks.includes(h)) served.hooks.push(h);
    if (!served.origin.has(h)) served.origin.set(h, where);
  }
  for (const s of found.schedules) {
    const other = served.schedules.find((o) => o !== s && o.id === s.id);
    if (other) clash(`schedule '${s.id}'`, other);
    if (!served.schedules.includes(s)) served.schedules.push(s);
    if (!served.origin.has(s)) served.origin.set(s, where);
  }
  for (const [name, handler] of Object.entries(found.handlers ?? {})) {
    const existing = served.handlers[name];
    if (existing && existing !== handler) {
      throw new ServeError(code, `${where}: ASL handler '${name}' is also exported by ${served.origin.get(existing) ?? 'another module'}; names must be unique`);
    }
    served.handlers[name] = handler;
    served.origin.set(handler, where);
  }
}

/** Loads the modules in order into `served`; every problem is a BAD_MODULE ServeError naming the module. */
export async function loadModules(served: Served, paths: readonly string[], cwd: string): Promise<Served> {
  // Each module's workflows, in order; an ASL file's place is filled once the handlers are known.
  const slots: Array<Workflow[] | { path: string; given: string }> = [];
  for (const given of paths) {
    const path = resolve(cwd, given);
    if (!existsSync(path)) bad(`cannot find workflow module ${given} (looked for ${path})`);
    if (!statSync(path).isFile()) bad(`workflow module ${given} is not a file`);
    if (ASL_FILE.test(path)) {
      slots.push({ path, given });
      continue;
    }
    let mod: Record<string, unknown>;
    try {
      mod = await importModule(path);
    } catch (err) {
      bad(`cannot load workflow module ${given}: ${firstLine(err)}`);
    }
    const found = moduleExportsOf(mod, given);
    add(served, { ...found, workflows: [] }, given);
    slots.push(found.workflows);
  }
  const names = new Map<string, string>();
  for (const slot of slots) {
    if (Array.isArray(slot)) {
      served.workflows.push(...slot);
      continue;
    }
    const file = loadAslModule(slot.path, slot.given, served.handlers);
    const other = names.get(file.workflow.name);
    if (other) bad(`${slot.given} and ${other} both define the state machine '${file.workflow.name}' (named after the file); rename one`);
    names.set(file.workflow.name, slot.given);
    served.aslFiles.push(file);
    served.workflows.push(file.workflow);
  }
  return served;
}
