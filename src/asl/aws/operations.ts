/**
 * The AWSStepFunctions operations, each `(input, deps) => output` over plain JSON as the
 * awsJson1_0 protocol carries it. Times are epoch seconds; ARNs come from ../arns.ts.
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionSummary } from '../../core/store.js';
import { aslErrorName } from '../asl-errors.js';
import { executionArn, parseExecutionArn, parseStateMachineArn, stateMachineArn } from '../arns.js';
import { AwsError } from './aws-error.js';
import type { StateMachineCatalog } from './catalog.js';
import { toAwsHistory } from './history.js';

type Input = Record<string, unknown>;
/** What an operation knows of its request: `gone` fires when the client went away (a long poll stops). */
export interface OperationCall {
  gone: AbortSignal;
}
export type Operation = (input: Input, catalog: StateMachineCatalog, call: OperationCall) => Promise<unknown>;

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const EXECUTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;
export const DEFAULT_ROLE = 'arn:aws:iam::000000000000:role/stepwise';
const SYNC_WAIT_MS = 5 * 60_000;
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function str(input: Input, field: string, required = true): string | undefined {
  const v = input[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new AwsError('ValidationException', `${field} must be a non-empty string`);
  return v;
}

function machineName(input: Input, field = 'stateMachineArn'): string {
  const name = parseStateMachineArn(input[field]);
  if (!name) throw new AwsError('InvalidArn', `${field} is not a state machine ARN: ${JSON.stringify(input[field])}`);
  return name;
}

async function existing(catalog: StateMachineCatalog, name: string) {
  const record = await catalog.record(name);
  if (!record) throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn(name)}'`);
  return record;
}

function executionIdOf(input: Input): { stateMachine: string; executionId: string } {
  const parsed = parseExecutionArn(input.executionArn);
  if (!parsed) throw new AwsError('InvalidArn', `executionArn is not an execution ARN: ${JSON.stringify(input.executionArn)}`);
  return parsed;
}

export async function execution(catalog: StateMachineCatalog, input: Input): Promise<ExecutionSummary> {
  const { stateMachine, executionId } = executionIdOf(input);
  try {
    const found = await catalog.engine.getExecution(executionId);
    if (found.workflow === stateMachine) return found;
  } catch {
    // reported below, as AWS does
  }
  throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(input.executionArn)}'`);
}

const STATUS: Record<string, string> = { RUNNING: 'RUNNING', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED', CANCELLED: 'ABORTED' };
const STATUS_FILTER: Record<string, string> = { RUNNING: 'RUNNING', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED', ABORTED: 'CANCELLED' };

function describe(e: ExecutionSummary) {
  const error = e.error as { code: string; message: string } | undefined;
  return {
    executionArn: executionArn(e.workflow, e.id),
    stateMachineArn: stateMachineArn(e.workflow),
    name: e.id,
    status: STATUS[e.status] ?? e.status,
    startDate: seconds(e.startedAt),
    ...(e.endedAt !== undefined ? { stopDate: seconds(e.endedAt) } : {}),
    input: JSON.stringify(e.input ?? null),
    inputDetails: { included: true },
    ...(e.status === 'SUCCEEDED' ? { output: JSON.stringify(e.output ?? null), outputDetails: { included: true } } : {}),
    ...(error ? { error: aslErrorName(error.code, error.message), cause: error.message } : {}),
  };
}

function parseInput(input: Input): unknown {
  const text = input.input === undefined ? '{}' : input.input;
  if (typeof text !== 'string') throw new AwsError('InvalidExecutionInput', 'input must be a JSON string');
  try {
    return JSON.parse(text);
  } catch {
    throw new AwsError('InvalidExecutionInput', 'input is not valid JSON');
  }
}

function page(input: Input, max = 1000): { limit: number; token?: string } {
  const limit = input.maxResults === undefined || input.maxResults === 0 ? 100 : input.maxResults;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > max) throw new AwsError('ValidationException', `maxResults must be an integer from 1 to ${max}`);
  const token = input.nextToken;
  if (token !== undefined && typeof token !== 'string') throw new AwsError('InvalidToken', 'nextToken must be a string');
  return { limit: limit as number, token: token as string | undefined };
}

async function start(input: Input, catalog: StateMachineCatalog): Promise<ExecutionSummary> {
  const name = machineName(input);
  await existing(catalog, name);
  const id = str(input, 'name', false) ?? randomUUID();
  if (!EXECUTION_NAME.test(id)) throw new AwsError('InvalidName', 'name must be 1-80 letters, digits, - or _, starting with a letter or digit');
  const value = parseInput(input);
  const { execution: started, created } = await catalog.engine.startExecution(name, value, { id });
  // AWS: the same name and input while the execution runs returns it; once it has ended, the name is taken.
  if (!created && started.status !== 'RUNNING') throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn(name, id)}'`);
  return started;
}

export const OPERATIONS: Record<string, Operation> = {
  async CreateStateMachine(input, catalog) {
    const name = str(input, 'name')!;
    if (!NAME.test(name)) throw new AwsError('InvalidName', `Invalid Name: '${name}' (1-64 letters, digits, - or _, starting with a letter)`);
    const definition = str(input, 'definition')!;
    const type = (input.type ?? 'STANDARD') as 'STANDARD' | 'EXPRESS';
    if (type !== 'STANDARD' && type !== 'EXPRESS') throw new AwsError('ValidationException', "type must be 'STANDARD' or 'EXPRESS'");
    const roleArn = (input.roleArn as string | undefined) ?? DEFAULT_ROLE;
    const found = await catalog.record(name);
    if (found) {
      // AWS: creating again with the same definition and role is idempotent.
      if (found.definition === definition && found.roleArn === roleArn && found.type === type) return { stateMachineArn: stateMachineArn(name), creationDate: seconds(found.createdAt) };
      throw new AwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${stateMachineArn(name)}'`);
    }
    const compiled = catalog.install(name, definition);
    const now = Date.now();
    await catalog.registry.put({ name, type, roleArn, definition, createdAt: now, updatedAt: now, revisions: [{ version: compiled.workflow.version, definition, createdAt: now }] });
    return { stateMachineArn: stateMachineArn(name), creationDate: seconds(now) };
  },

  async DescribeStateMachine(input, catalog) {
    const record = await existing(catalog, machineName(input));
    return {
      stateMachineArn: stateMachineArn(record.name), name: record.name, status: 'ACTIVE', definition: record.definition,
      roleArn: record.roleArn, type: record.type, creationDate: seconds(record.createdAt),
      revisionId: record.revisions[record.revisions.length - 1]?.version,
    };
  },

  async ListStateMachines(input, catalog) {
    const { limit, token } = page(input);
    const all = await catalog.registry.list();
    const from = token ? Number(token) : 0;
    if (!Number.isInteger(from) || from < 0) throw new AwsError('InvalidToken', 'nextToken is not valid');
    const items = all.slice(from, from + limit).map((r) => ({ stateMachineArn: stateMachineArn(r.name), name: r.name, type: r.type, creationDate: seconds(r.createdAt) }));
    return { stateMachines: items, ...(from + limit < all.length ? { nextToken: String(from + limit) } : {}) };
  },

  async UpdateStateMachine(input, catalog) {
    const record = await existing(catalog, machineName(input));
    const definition = str(input, 'definition', false);
    const roleArn = str(input, 'roleArn', false);
    if (definition === undefined && roleArn === undefined) throw new AwsError('MissingRequiredParameter', 'give a definition or a roleArn to update');
    const now = Date.now();
    if (definition !== undefined && definition !== record.definition) {
      const compiled = catalog.install(record.name, definition);
      record.definition = definition;
      if (!record.revisions.some((r) => r.version === compiled.workflow.version)) record.revisions.push({ version: compiled.workflow.version, definition, createdAt: now });
    }
    if (roleArn !== undefined) record.roleArn = roleArn;
    record.updatedAt = now;
    await catalog.registry.put(record);
    return { updateDate: seconds(now), revisionId: record.revisions[record.revisions.length - 1]?.version };
  },

  async DeleteStateMachine(input, catalog) {
    // AWS: deleting is idempotent; running executions finish (the engine keeps the workflow).
    await catalog.registry.delete(machineName(input));
    return {};
  },

  async ValidateStateMachineDefinition(input, catalog) {
    const definition = str(input, 'definition')!;
    try {
      catalog.compile('Validation', definition);
      return { result: 'OK', diagnostics: [] };
    } catch (error) {
      const e = error as Error & { state?: string; field?: string };
      return {
        result: 'FAIL',
        diagnostics: [{ severity: 'ERROR', code: 'SCHEMA_VALIDATION_FAILED', message: e.message, ...(e.state ? { location: `/States/${e.state}${e.field ? `/${e.field}` : ''}` } : {}) }],
      };
    }
  },

  async StartExecution(input, catalog) {
    const e = await start(input, catalog);
    return { executionArn: executionArn(e.workflow, e.id), startDate: seconds(e.startedAt) };
  },

  async StartSyncExecution(input, catalog) {
    const e = await start(input, catalog);
    const ended = await catalog.engine.waitForEnd(e.id, SYNC_WAIT_MS);
    const d = describe(ended);
    return { ...d, status: d.status === 'ABORTED' ? 'FAILED' : d.status === 'RUNNING' ? 'TIMED_OUT' : d.status, billingDetails: { billedMemoryUsedInMB: 0, billedDurationInMilliseconds: 0 } };
  },

  async DescribeExecution(input, catalog) {
    return describe(await execution(catalog, input));
  },

  async ListExecutions(input, catalog) {
    const name = machineName(input);
    await existing(catalog, name);
    const { limit, token } = page(input);
    const filter = input.statusFilter as string | undefined;
    if (filter !== undefined && !STATUS_FILTER[filter]) throw new AwsError('ValidationException', `statusFilter must be one of ${Object.keys(STATUS_FILTER).join(', ')}`);
    const found = await catalog.engine.listExecutions({ workflow: name, ...(filter ? { status: STATUS_FILTER[filter] as never } : {}), limit: Math.min(limit, 500), ...(token ? { cursor: token } : {}) });
    return {
      executions: found.items.map((e) => {
        const d = describe(e);
        return { executionArn: d.executionArn, stateMachineArn: d.stateMachineArn, name: d.name, status: d.status, startDate: d.startDate, ...(d.stopDate !== undefined ? { stopDate: d.stopDate } : {}) };
      }),
      ...(found.nextCursor ? { nextToken: found.nextCursor } : {}),
    };
  },

  async StopExecution(input, catalog) {
    const e = await execution(catalog, input);
    if (e.status !== 'RUNNING') return { stopDate: seconds(e.endedAt ?? Date.now()) };
    const stopped = await catalog.engine.cancel(e.id);
    return { stopDate: seconds(stopped.endedAt ?? Date.now()) };
  },

  async GetExecutionHistory(input, catalog) {
    const e = await execution(catalog, input);
    const { limit, token } = page(input);
    const events: Parameters<typeof toAwsHistory>[0] = [];
    for (let after: string | undefined; ;) {
      const got = await catalog.engine.getHistory(e.id, { ...(after ? { after } : {}), limit: 1000 });
      events.push(...got.events);
      if (!got.nextCursor) break;
      after = got.nextCursor;
    }
    const record = await catalog.record(e.workflow);
    let mapped = toAwsHistory(events, catalog.compiled(e.workflow, e.version), record?.roleArn ?? DEFAULT_ROLE);
    if (input.reverseOrder === true) mapped = mapped.reverse();
    const from = token ? Number(token) : 0;
    if (!Number.isInteger(from) || from < 0) throw new AwsError('InvalidToken', 'nextToken is not valid');
    const slice = mapped.slice(from, from + limit).map((ev) => ({ ...ev, timestamp: ev.timestamp / 1000 }));
    return { events: slice, ...(from + limit < mapped.length ? { nextToken: String(from + limit) } : {}) };
  },
};
