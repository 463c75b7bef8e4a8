import { StepwiseError, type ErrorCode } from '../core/errors.js';
import type { ExecutionSummary } from '../core/store.js';
import { decodeJsonBody, checkParsed } from './decode-body.js';
import { triggerExecutionId, type TriggerKind } from './execution-id.js';
import { readField, type ExecutionIdRule, type InputMapper, type TriggerMessage } from './message.js';
import type { TriggerEngine } from './trigger-engine.js';

/** What a trigger does with one message once the engine has had its say. */
export type Intake =
  /** The execution exists (new, or from an earlier delivery): acknowledge the message. */
  | { kind: 'started'; execution: ExecutionSummary; created: boolean }
  /** The message can never start anything: dead-letter it with the reason, then acknowledge it. */
  | { kind: 'poison'; code: ErrorCode; reason: string }
  /** Something passing went wrong (the store is busy, the engine is stopping): leave it for later. */
  | { kind: 'retry'; error: unknown };

/** The part of a queue trigger's definition intake needs. */
export interface IntakeRules {
  kind: TriggerKind;
  name: string;
  workflow: string;
  executionId?: ExecutionIdRule;
  input?: InputMapper;
}

/** Errors from the engine that no redelivery can cure: the message itself is at fault. */
const REFUSALS = new Set<ErrorCode>(['VALIDATION_FAILED', 'INPUT_TOO_DEEP', 'MALFORMED_JSON', 'EXECUTION_CONFLICT', 'WORKFLOW_NOT_FOUND']);

/**
 * Turns one message into an execution start. `defaultKey` is the broker's own id for the message
 * (used when the trigger names no rule) and `parsedBody` a body the client library already parsed.
 * Nothing here acknowledges anything: the caller acts on the outcome, which is what keeps "ack only
 * after the start is durable" in one place per broker.
 */
export async function takeIn(
  rules: IntakeRules,
  engine: TriggerEngine,
  message: TriggerMessage,
  defaultKey: string | undefined,
  parsedBody?: { value: unknown },
): Promise<Intake> {
  const decoded = parsedBody ? checkParsed(parsedBody.value) : decodeJsonBody(message.body);
  if (!decoded.ok) return { kind: 'poison', code: decoded.code, reason: decoded.reason };
  const body = decoded.value;

  let key: string | undefined;
  let input: unknown;
  try {
    key = keyOf(rules.executionId, body, message, defaultKey);
    if (key === undefined || key.length === 0) {
      return { kind: 'poison', code: 'VALIDATION_FAILED', reason: `no execution id: ${describeRule(rules.executionId, rules.kind)}` };
    }
    input = rules.input ? await rules.input(body, message) : body;
  } catch (error) {
    return refused(error, 'the trigger refused the message');
  }

  try {
    const started = await engine.startExecution(rules.workflow, input, { id: triggerExecutionId(rules.kind, rules.name, key) });
    return { kind: 'started', ...started };
  } catch (error) {
    if (error instanceof StepwiseError && REFUSALS.has(error.code)) return { kind: 'poison', code: error.code, reason: error.message };
    return { kind: 'retry', error };
  }
}

function keyOf(rule: ExecutionIdRule | undefined, body: unknown, message: TriggerMessage, defaultKey: string | undefined): string | undefined {
  if (rule === undefined) return defaultKey;
  if (typeof rule === 'function') return rule(body, message);
  if ('header' in rule) return message.headers[rule.header.toLowerCase()];
  return readField(body, rule.field);
}

function describeRule(rule: ExecutionIdRule | undefined, kind: TriggerKind): string {
  if (rule === undefined) return kind === 'amqp' ? 'the message has no messageId property' : 'the message has no id';
  if (typeof rule === 'function') return "the trigger's executionId function returned none";
  if ('header' in rule) return `the message has no '${rule.header}' header`;
  return `the body has no string or number at '${rule.field}'`;
}

/** A mapping function threw: its StepwiseError code when it is a refusal, VALIDATION_FAILED otherwise. */
function refused(error: unknown, fallback: string): Intake {
  if (error instanceof StepwiseError && REFUSALS.has(error.code)) return { kind: 'poison', code: error.code, reason: error.message };
  const message = error instanceof Error && error.message ? error.message : fallback;
  return { kind: 'poison', code: 'VALIDATION_FAILED', reason: message.length > 500 ? `${message.slice(0, 500)}…` : message };
}
