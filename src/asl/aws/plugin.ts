/**
 * The AWS Step Functions wire protocol (awsJson1_0) as a fastify plugin: `POST /` with
 * `X-Amz-Target: AWSStepFunctions.<Operation>` and `Content-Type: application/x-amz-json-1.0`.
 * Errors answer in AWS's shape (`__type`, `message`, and the `x-amzn-errortype` header), so
 * `@aws-sdk/client-sfn` throws its named exceptions. The route does its own auth (see auth.ts):
 * SDKs sign with SigV4, which the API's bearer check would refuse.
 *
 * The SDK sends StartSyncExecution to the host `sync-<endpoint host>` unless the client is built
 * with `disableHostPrefix: true`; this server answers on any host, so set that option (or
 * resolve `sync-…` to the server).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SELF_AUTHENTICATED_ROUTE_FLAG } from '../../api/security.js';
import type { AslWorkflowOptions } from '../asl-workflow.js';
import type { AslRegistry } from '../registry/registry.js';
import { tokenAccepted } from './auth.js';
import { AwsError, toAwsError } from './aws-error.js';
import { StateMachineCatalog, type AslEngine } from './catalog.js';
import { OPERATIONS as STATE_MACHINE_OPERATIONS } from './operations.js';
import { TASK_OPERATIONS } from './task-operations.js';

export interface AwsStepFunctionsOptions extends AslWorkflowOptions {
  engine: AslEngine;
  registry: AslRegistry;
  /** When set, a request needs this token as a bearer token or as its SigV4 access key id. */
  token?: string;
  /** How long GetActivityTask waits for a task before answering with none. @default 60000, as AWS */
  activityPollMs?: number;
}

/** What `buildServer({ stepFunctions })` takes: the engine and token come from the server's own options. */
export type AwsStepFunctionsMount = Omit<AwsStepFunctionsOptions, 'engine' | 'token'>;

const OPERATIONS = { ...STATE_MACHINE_OPERATIONS, ...TASK_OPERATIONS };
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'AWSStepFunctions.';
/** JSON nested deeper than this is refused before anything stringifies it again. */
const MAX_DEPTH = 64;

function tooDeep(value: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH) return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some((v) => tooDeep(v, depth + 1));
}

function sendAws(reply: FastifyReply, error: AwsError): FastifyReply {
  return reply.code(error.status).header('x-amzn-errortype', error.type).type(CONTENT_TYPE).send(JSON.stringify({ __type: error.type, message: error.message }));
}

export async function awsStepFunctions(app: FastifyInstance, opts: AwsStepFunctionsOptions): Promise<void> {
  const { engine, registry, token, activityPollMs, ...workflowOptions } = opts;
  const catalog = new StateMachineCatalog(engine, registry, workflowOptions);
  if (activityPollMs !== undefined) catalog.activityPollMs = activityPollMs;
  const problems = await catalog.load();
  for (const p of problems) app.log.warn(p, 'a stored state machine revision no longer compiles; it was not registered');

  // This plugin's scope reads every body as text and parses it here, to answer in AWS's shape.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 413) return sendAws(reply, new AwsError('RequestEntityTooLarge', 'the request body is over the size limit', 413));
    if (status !== undefined && status < 500) return sendAws(reply, new AwsError('ValidationException', (error as Error).message, status));
    request.log.error({ err: error }, 'AWS protocol request failed');
    return sendAws(reply, toAwsError(error));
  });

  app.post('/', { config: { [SELF_AUTHENTICATED_ROUTE_FLAG]: true } as never }, async (request: FastifyRequest, reply: FastifyReply) => {
    if (token && !tokenAccepted(request.headers.authorization, token)) {
      return sendAws(reply, new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.', 403));
    }
    const target = request.headers['x-amz-target'];
    if (typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
      return sendAws(reply, new AwsError('UnknownOperationException', 'X-Amz-Target must be AWSStepFunctions.<Operation>'));
    }
    const operation = Object.hasOwn(OPERATIONS, target.slice(TARGET_PREFIX.length)) ? OPERATIONS[target.slice(TARGET_PREFIX.length)] : undefined;
    if (!operation) return sendAws(reply, new AwsError('UnknownOperationException', `unknown operation '${target.slice(0, 100)}'`));
    const type = String(request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== CONTENT_TYPE) return sendAws(reply, new AwsError('UnsupportedMediaType', `Content-Type must be ${CONTENT_TYPE}`, 415));
    let input: unknown;
    try {
      input = JSON.parse(typeof request.body === 'string' && request.body.length > 0 ? request.body : '{}');
    } catch {
      return sendAws(reply, new AwsError('SerializationException', 'the request body is not valid JSON'));
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return sendAws(reply, new AwsError('SerializationException', 'the request body must be a JSON object'));
    if (tooDeep(input)) return sendAws(reply, new AwsError('SerializationException', `the request body is nested deeper than ${MAX_DEPTH}`));
    // A long poll (GetActivityTask) stops when its client goes away: a hang-up sends FIN ('end'),
    // and node may close the socket only later.
    const gone = new AbortController();
    const socket = request.raw.socket;
    const onClose = () => gone.abort();
    socket.once('end', onClose);
    socket.once('close', onClose);
    if (socket.destroyed || socket.readableEnded) gone.abort();
    try {
      const output = await operation(input as Record<string, unknown>, catalog, { gone: gone.signal });
      return reply.type(CONTENT_TYPE).send(JSON.stringify(output));
    } catch (error) {
      const mapped = toAwsError(error);
      if (mapped.status >= 500) request.log.error({ err: error }, 'AWS protocol operation failed');
      return sendAws(reply, mapped);
    } finally {
      socket.off('end', onClose);
      socket.off('close', onClose);
    }
  });
}
