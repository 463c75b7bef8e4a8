/**
 * `POST /v1/hooks/:name`: a signed delivery starts the workflow bound to the hook. A fastify
 * plugin with its own body parser (the raw bytes, which the signature covers) and error handler,
 * registered by buildServer; it needs no bearer token, since the signature authenticates it.
 *
 * Order of checks: the hook exists (404 HOOK_NOT_FOUND), the body fits (413), the signature
 * matches (401 SIGNATURE_INVALID, before the body is even parsed), the body is JSON (400), the
 * delivery has an id (400); then the start: 201 for a first delivery, 200 with the same execution
 * for a redelivery, 409 EXECUTION_CONFLICT for a reused delivery id with another body.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StepwiseError } from '../core/errors.js';
import { decodeJsonBody } from '../triggers/decode-body.js';
import { triggerExecutionId } from '../triggers/execution-id.js';
import { readField } from '../triggers/message.js';
import { DEFAULT_HOOK_BODY_LIMIT, type Webhook, type WebhookRequest } from '../triggers/webhook.js';
import { verifySignature } from '../triggers/webhook-signature.js';
import type { ApiEngine } from './engine-port.js';
import { classifyError, httpError, logInternal, sendError } from './http-errors.js';
import { presentStarted } from './present.js';
import { MAX_PARAM_LENGTH, errorSchema } from './schemas.js';
import { SELF_AUTHENTICATED_ROUTE_FLAG } from './security.js';

export interface HookRoutesOptions {
  /** With `listWorkflows`, the server refuses to become ready while a hook names an unknown workflow. */
  engine: Pick<ApiEngine, 'startExecution'> & Partial<Pick<ApiEngine, 'listWorkflows'>>;
  hooks: readonly Webhook[];
  /** Deliveries allowed per client (IP) per window; unset: no limit of its own. */
  rateLimit?: { max: number; timeWindowMs: number };
  /** The time signatures' timestamps are checked against (tests pass a fixed one). @default Date.now */
  now?: () => number;
}

const startedSchema = {
  type: 'object',
  required: ['id', 'workflow', 'version', 'status', 'startedAt'],
  properties: {
    id: { type: 'string', description: '`hook.<name>:<delivery id>`' },
    workflow: { type: 'string' },
    version: { type: 'string' },
    status: { type: 'string' },
    startedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const hookRouteSchema = {
  summary: 'Start the workflow bound to a webhook (signed deliveries only)',
  description:
    'The body is any JSON; its raw bytes must be signed with the hook\'s secret (HMAC-SHA256, GitHub or Stripe style). ' +
    'The delivery id (a header or a body field) becomes the execution id, so a redelivery starts nothing new. No bearer token is needed.',
  tags: ['hooks'],
  params: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1, maxLength: MAX_PARAM_LENGTH, description: 'A webhook name.' } },
  },
  response: {
    200: { ...startedSchema, description: 'A redelivery: the execution this delivery id already started.' },
    201: { ...startedSchema, description: 'The execution was created.' },
    '4xx': errorSchema,
    '5xx': errorSchema,
  },
} as const;

/** Registers the hooks route; call it through `app.register(registerHookRoutes, options)`. */
export async function registerHookRoutes(app: FastifyInstance, opts: HookRoutesOptions): Promise<void> {
  const hooks = new Map<string, Webhook>();
  for (const hook of opts.hooks) {
    if (hook?.kind !== 'hook') throw new StepwiseError('INVALID_DEFINITION', 'every hook must come from webhook()');
    if (hooks.has(hook.name)) throw new StepwiseError('INVALID_DEFINITION', `two webhooks are named '${hook.name}'`);
    hooks.set(hook.name, hook);
  }
  const now = opts.now ?? Date.now;
  const engine = opts.engine;
  // Checked when the server becomes ready (workflows may be registered after it is built).
  app.addHook('onReady', async () => {
    // No webhooks, nothing to check: describing every workflow is not free at start-up.
    if (!engine.listWorkflows || opts.hooks.length === 0) return;
    const known = new Set(engine.listWorkflows().map((w) => w.name));
    const lost = opts.hooks.find((h) => !known.has(h.workflow));
    if (lost) throw new StepwiseError('WORKFLOW_NOT_FOUND', `webhook '${lost.name}' starts workflow '${lost.workflow}', which the engine does not have`);
  });
  const bodyLimit = Math.max(DEFAULT_HOOK_BODY_LIMIT, ...opts.hooks.map((h) => h.maxBodyBytes));

  // Encapsulated in this plugin: the raw bytes of any content type, for the signature.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error, request, reply) => {
    const mapped = classifyError(error, bodyLimit);
    if (mapped.internal) logInternal(request, error);
    return sendError(reply, mapped);
  });

  const config: Record<string, unknown> = { [SELF_AUTHENTICATED_ROUTE_FLAG]: true };
  if (opts.rateLimit) config.rateLimit = { max: opts.rateLimit.max, timeWindow: opts.rateLimit.timeWindowMs };

  app.post<{ Params: { name: string } }>('/v1/hooks/:name', { schema: hookRouteSchema, bodyLimit, config }, async (request, reply) => {
    const name = request.params.name;
    const hook = hooks.get(name);
    if (!hook) throw httpError('HOOK_NOT_FOUND', `no webhook named '${name.length > 140 ? `${name.slice(0, 140)}…` : name}'`);
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    if (body.length > hook.maxBodyBytes) throw httpError('PAYLOAD_TOO_LARGE', `the request body is over the limit of ${hook.maxBodyBytes} bytes`);

    const headers = headersOf(request);
    const signed = verifySignature(hook.style, headers[hook.signatureHeader], body, hook.secrets, { nowMs: now(), toleranceSeconds: hook.toleranceSeconds });
    if (!signed.ok) throw httpError('SIGNATURE_INVALID', `${signed.reason} (header ${hook.signatureHeader})`);

    const decoded = decodeJsonBody(body);
    if (!decoded.ok) throw httpError(decoded.code, decoded.reason);
    const delivery: WebhookRequest = { hook: hook.name, headers, body };
    const key = deliveryKey(hook, decoded.value, delivery);
    const input = await mapInput(hook, decoded.value, delivery);

    const { execution, created } = await opts.engine.startExecution(hook.workflow, input, { id: triggerExecutionId('hook', hook.name, key) });
    reply.header('Location', `/v1/executions/${encodeURIComponent(execution.id)}`);
    return reply.code(created ? 201 : 200).send(presentStarted(execution));
  });
}

function headersOf(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key.toLowerCase()] = first;
  }
  return out;
}

function deliveryKey(hook: Webhook, body: unknown, delivery: WebhookRequest): string {
  const rule = hook.deliveryId;
  let key: string | undefined;
  let where: string;
  if (typeof rule === 'function') {
    key = callRefusable(() => rule(body, delivery));
    where = "the hook's deliveryId function returned none";
  } else if ('header' in rule) {
    key = delivery.headers[rule.header.toLowerCase()];
    where = `the '${rule.header}' header is missing`;
  } else {
    key = readField(body, rule.field);
    where = `the body has no string or number at '${rule.field}'`;
  }
  if (typeof key !== 'string' || key.length === 0) throw httpError('VALIDATION_FAILED', `no delivery id: ${where}`);
  return key;
}

async function mapInput(hook: Webhook, body: unknown, delivery: WebhookRequest): Promise<unknown> {
  const input = hook.input;
  if (!input) return body;
  try {
    return await input(body, delivery);
  } catch (error) {
    throw refusal(error);
  }
}

function callRefusable<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw refusal(error);
  }
}

/** A hook's own function threw: its StepwiseError as it is, anything else a 400 naming the problem. */
function refusal(error: unknown): StepwiseError {
  if (error instanceof StepwiseError) return error;
  const message = error instanceof Error && error.message ? error.message : 'the hook refused the delivery';
  return httpError('VALIDATION_FAILED', message.length > 500 ? `${message.slice(0, 500)}…` : message);
}
