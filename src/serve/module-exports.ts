/**
 * What a served module exports, sorted by kind: built workflows, queue triggers (`natsTrigger`,
 * `amqpTrigger`), webhooks (`webhook`), schedules (`schedule`), and an object of named handlers
 * that ASL Task resources call (`export const handlers = { chargeCard }`). Everything is
 * recognised by its shape or brand, not `instanceof`: a module may build it with another copy of
 * the package (its sources through tsx, or its own install) than the one serving it.
 */
import type { AslHandlers } from '../asl/resources.js';
import { WORKFLOW_BRAND, WORKFLOW_BRAND_REVISION, isWorkflow, type Workflow } from '../dsl/workflow.js';
import { isSchedule } from '../schedules/collect.js';
import type { Schedule } from '../schedules/schedule.js';
import type { QueueTrigger } from '../triggers/runner.js';
import type { Webhook } from '../triggers/webhook.js';
import { ServeError } from './serve-error.js';

/** The export name that holds ASL handlers by name. */
export const HANDLERS_EXPORT = 'handlers';

export interface ModuleExports {
  workflows: Workflow[];
  triggers: QueueTrigger[];
  hooks: Webhook[];
  schedules: Schedule[];
  /** The module's `handlers` export, when it has one. */
  handlers?: AslHandlers;
}

function bad(message: string): never {
  throw new ServeError('BAD_MODULE', message);
}

export function isQueueTrigger(value: unknown): value is QueueTrigger {
  const v = value as { kind?: unknown; name?: unknown; workflow?: unknown } | null;
  return typeof v === 'object' && v !== null && (v.kind === 'nats' || v.kind === 'amqp') && typeof v.name === 'string' && typeof v.workflow === 'string';
}

export function isWebhook(value: unknown): value is Webhook {
  const v = value as { kind?: unknown; name?: unknown; workflow?: unknown } | null;
  return typeof v === 'object' && v !== null && v.kind === 'hook' && typeof v.name === 'string' && typeof v.workflow === 'string';
}

/** An object whose every value is a function (a plain record of handlers by name). */
export function isHandlerRecord(value: unknown): value is AslHandlers {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => typeof v === 'function');
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

/** A trigger, webhook or schedule: what goes to a runner or a route rather than the engine. */
function isStarter(value: unknown): boolean {
  return isQueueTrigger(value) || isWebhook(value) || isSchedule(value);
}

/**
 * The workflows a module exports, in a defined order: the default array's, in its order, then
 * the named exports. Two versions of one name among the named exports are refused: a module
 * namespace lists its names alphabetically, so which one is the newest would be an accident.
 */
function workflowsOf(mod: Record<string, unknown>, where: string): Workflow[] {
  const found: Workflow[] = [];
  const add = (wf: Workflow) => {
    if (!found.includes(wf)) found.push(checkRevision(wf, where));
  };
  const fromDefault = new Set<Workflow>();
  if (Array.isArray(mod.default)) {
    mod.default.forEach((item, i) => {
      if (isStarter(item)) return;
      if (!isWorkflow(item)) {
        bad(`${where}: item ${i} of the default export is not a built workflow, trigger, webhook or schedule${looksUnbuilt(item) ? ' (did you forget .build()?)' : ''}`);
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
  return found;
}

/**
 * Triggers, webhooks and schedules among the exports: each exported one, and each item of an
 * exported array (named or default), so `export const { triggers, hooks } = checkoutTriggers()`
 * serves both lists. Functions are not called.
 */
function startersOf(mod: Record<string, unknown>): Pick<ModuleExports, 'triggers' | 'hooks' | 'schedules'> {
  const out: Pick<ModuleExports, 'triggers' | 'hooks' | 'schedules'> = { triggers: [], hooks: [], schedules: [] };
  const visit = (value: unknown) => {
    if (Array.isArray(value)) for (const item of value) visit(item);
    else if (isQueueTrigger(value)) { if (!out.triggers.includes(value)) out.triggers.push(value); }
    else if (isWebhook(value)) { if (!out.hooks.includes(value)) out.hooks.push(value); }
    else if (isSchedule(value) && !out.schedules.includes(value)) out.schedules.push(value);
  };
  for (const value of Object.values(mod)) visit(value);
  return out;
}

/** Sorts a module's exports; refuses a module with nothing to serve, naming what it has instead. */
export function moduleExportsOf(mod: Record<string, unknown>, where: string): ModuleExports {
  const workflows = workflowsOf(mod, where);
  const starters = startersOf(mod);
  const handlers = mod[HANDLERS_EXPORT];
  if (handlers !== undefined && !isHandlerRecord(handlers)) {
    bad(`${where}: the '${HANDLERS_EXPORT}' export must be an object of handler functions by name (the names ASL Task resources call)`);
  }
  const result: ModuleExports = { workflows, ...starters, ...(handlers !== undefined ? { handlers } : {}) };
  const empty = workflows.length + starters.triggers.length + starters.hooks.length + starters.schedules.length === 0 && handlers === undefined;
  if (empty) {
    const unbuilt = Object.entries(mod).filter(([, v]) => looksUnbuilt(v)).map(([k]) => k);
    bad(
      `${where} exports no workflow (nor a trigger, webhook, schedule or '${HANDLERS_EXPORT}' object): export each built workflow ` +
        "(export const order = workflow('order')...build()), or a default array of them" +
        (unbuilt.length > 0 ? `; ${unbuilt.join(', ')} ${unbuilt.length === 1 ? 'is' : 'are'} not built (did you forget .build()?)` : ''),
    );
  }
  return result;
}
