/**
 * The AWSStepFunctions operations of activities, task tokens and redrive, over the engine's task
 * door (docs/handlers.md): GetActivityTask is a long poll of the worker queue an activity names;
 * SendTaskSuccess/Failure/Heartbeat answer with the token it handed out. Activities are worker
 * queue names: CreateActivity and its siblings keep a list of names in memory for
 * Describe/List, and GetActivityTask polls any name, created or not.
 */
import { isTaskEngine, type TaskEngine } from '../../api/task-routes.js';
import { StepwiseError } from '../../core/errors.js';
import { toJson } from '../../core/json.js';
import { activityInput } from '../remote-task.js';
import { activityArn, executionArn, parseActivityArn } from '../arns.js';
import { AwsError } from './aws-error.js';
import type { StateMachineCatalog } from './catalog.js';
import { execution, type Operation } from './operations.js';

type Input = Record<string, unknown>;
const ACTIVITY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
const MAX_OUTPUT_CHARS = 256 * 1024;
const DEFAULT_WORKER = 'aws-activity-worker';
const seconds = (ms: number) => ms / 1000;

function tasks(catalog: StateMachineCatalog): TaskEngine {
  if (!isTaskEngine(catalog.engine)) throw new AwsError('UnsupportedOperation', 'this engine does not hand out tasks');
  return catalog.engine;
}

function token(input: Input): string {
  const t = input.taskToken;
  if (typeof t !== 'string' || t.length === 0 || t.length > 2048) throw new AwsError('InvalidToken', 'taskToken must be a string of 1 to 2048 characters');
  return t;
}

function optional(input: Input, field: string, max: number): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw new AwsError('ValidationException', `${field} must be a string of at most ${max} characters`);
  return v;
}

/** AWS's names for an answer that did not apply: a token that is not one, or one no longer current. */
function answered(result: 'applied' | 'not-current' | 'malformed'): Record<string, never> {
  if (result === 'malformed') throw new AwsError('InvalidToken', 'Invalid Token: the task token is not one Stepwise issued');
  if (result === 'not-current') throw new AwsError('TaskTimedOut', 'Task Timed Out: the task token has expired or its task is already closed (answered, retried, cancelled or timed out)');
  return {};
}

function activityName(input: Input): string {
  const name = parseActivityArn(input.activityArn);
  if (!name) throw new AwsError('InvalidArn', `activityArn is not an activity ARN: ${JSON.stringify(input.activityArn)}`);
  return name;
}

export const TASK_OPERATIONS: Record<string, Operation> = {
  async GetActivityTask(input, catalog, call) {
    const queue = activityName(input);
    if (!ACTIVITY_NAME.test(queue)) return {};
    const engine = tasks(catalog);
    const workerName = optional(input, 'workerName', 80) ?? DEFAULT_WORKER;
    const task = await engine.pollTask(queue, workerName, catalog.activityPollMs, call.gone);
    if (!task) return {};
    // Socket events that arrived while the task was taken are seen first (see task-routes.ts).
    await new Promise((resolve) => setImmediate(resolve));
    if (call.gone.aborted) {
      // Its client went away before hearing of it: the task goes to the next poll.
      await engine.releaseTask(task.taskToken);
      return {};
    }
    return { taskToken: task.taskToken, input: JSON.stringify(activityInput(task.input) ?? null) };
  },

  async SendTaskSuccess(input, catalog) {
    const t = token(input);
    const text = input.output;
    if (typeof text !== 'string' || text.length > MAX_OUTPUT_CHARS) throw new AwsError('InvalidOutput', `output must be a JSON string of at most ${MAX_OUTPUT_CHARS} characters`);
    let output: unknown;
    try {
      output = JSON.parse(text);
    } catch {
      throw new AwsError('InvalidOutput', 'Invalid Output: output is not valid JSON');
    }
    const checked = toJson(output, { maxBytes: MAX_OUTPUT_CHARS });
    if (!checked.ok) throw new AwsError('InvalidOutput', `Invalid Output: ${checked.message}`);
    return answered(await tasks(catalog).answerTask(t, { ok: true, output }));
  },

  async SendTaskFailure(input, catalog) {
    const t = token(input);
    const error = optional(input, 'error', 256) ?? 'States.TaskFailed';
    const cause = optional(input, 'cause', 32_768) ?? '';
    return answered(await tasks(catalog).answerTask(t, { ok: false, error: { code: error, message: cause } }));
  },

  async SendTaskHeartbeat(input, catalog) {
    return answered(await tasks(catalog).heartbeatTask(token(input)));
  },

  async RedriveExecution(input, catalog) {
    const e = await execution(catalog, input);
    try {
      await catalog.engine.redrive(e.id);
    } catch (error) {
      if (error instanceof StepwiseError && (error.code === 'EXECUTION_NOT_FAILED' || error.code === 'EXECUTION_COMPENSATED')) {
        throw new AwsError('ExecutionNotRedrivable', `Execution Not Redrivable: '${executionArn(e.workflow, e.id)}': ${error.message}`);
      }
      throw error;
    }
    return { redriveDate: seconds(Date.now()) };
  },

  async CreateActivity(input, catalog) {
    const name = input.name;
    if (typeof name !== 'string' || !ACTIVITY_NAME.test(name)) throw new AwsError('InvalidName', `Invalid Name: ${JSON.stringify(name)} (1-80 letters, digits, '.', '_' or '-', starting with a letter or digit)`);
    // AWS: creating an existing activity again is idempotent.
    let created = catalog.activities.get(name);
    if (created === undefined) catalog.activities.set(name, (created = Date.now()));
    return { activityArn: activityArn(name), creationDate: seconds(created) };
  },

  async DescribeActivity(input, catalog) {
    const name = activityName(input);
    const created = catalog.activities.get(name);
    if (created === undefined) throw new AwsError('ActivityDoesNotExist', `Activity Does Not Exist: '${activityArn(name)}'`);
    return { activityArn: activityArn(name), name, creationDate: seconds(created) };
  },

  async ListActivities(input, catalog) {
    const limit = input.maxResults === undefined || input.maxResults === 0 ? 100 : input.maxResults;
    if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 1000) throw new AwsError('ValidationException', 'maxResults must be an integer from 1 to 1000');
    const from = input.nextToken === undefined ? 0 : Number(input.nextToken);
    if (!Number.isInteger(from) || from < 0) throw new AwsError('InvalidToken', 'nextToken is not valid');
    const all = [...catalog.activities].sort(([a], [b]) => a.localeCompare(b));
    const items = all.slice(from, from + (limit as number)).map(([name, created]) => ({ activityArn: activityArn(name), name, creationDate: seconds(created) }));
    return { activities: items, ...(from + (limit as number) < all.length ? { nextToken: String(from + (limit as number)) } : {}) };
  },

  async DeleteActivity(input, catalog) {
    // AWS: deleting is idempotent. Tasks already queued stay for any poller of the name.
    catalog.activities.delete(activityName(input));
    return {};
  },
};
