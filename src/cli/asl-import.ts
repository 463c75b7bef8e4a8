/**
 * `stepwise asl import <file.json> [--name NAME] [--url URL]`: checks an ASL definition locally
 * (structure, paths, intrinsic functions), then creates it on a running server through the AWS
 * protocol, or updates it when a state machine of that name exists. Task resources are checked
 * by the server, which holds the handlers. Exit codes as for the other commands.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stateMachineArn } from '../asl/arns.js';
import { workflowNameOf } from '../asl/load.js';
import { validateAsl } from '../asl/validate.js';

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const USAGE = 'Usage: stepwise asl import <file.json> [--name NAME] [--url URL]';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the AWS protocol's JSON answers, read by field name
async function call(url: string, token: string | undefined, operation: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(new URL('/', url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AWSStepFunctions.${operation}`, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { __type: 'BadResponse', message: text.slice(0, 200) };
  }
  return { status: response.status, body: parsed };
}

export async function cmdAsl(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'import') {
    io.err(USAGE);
    return 2;
  }
  let values: { name?: string; url?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: { name: { type: 'string' }, url: { type: 'string' } }, allowPositionals: true, strict: true }));
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (positionals.length !== 1) {
    io.err(USAGE);
    return 2;
  }
  const file = positionals[0];
  let definition: string;
  try {
    definition = readFileSync(file, 'utf8');
    validateAsl(JSON.parse(definition));
  } catch (error) {
    io.err(`INVALID_DEFINITION: ${file}: ${(error as Error).message}`);
    return 1;
  }
  const name = values.name ?? workflowNameOf(file);
  const url = values.url ?? io.env.STEPWISE_URL ?? 'http://127.0.0.1:3000';
  const token = io.env.STEPWISE_TOKEN;
  try {
    let res = await call(url, token, 'CreateStateMachine', { name, definition });
    let verb = 'created';
    if (res.body?.__type === 'StateMachineAlreadyExists') {
      res = await call(url, token, 'UpdateStateMachine', { stateMachineArn: stateMachineArn(name), definition });
      verb = 'updated';
    }
    if (res.status !== 200) {
      io.err(`${res.body?.__type ?? 'ERROR'}: ${res.body?.message ?? `HTTP ${res.status}`}`);
      return 1;
    }
    io.out(`${verb} ${stateMachineArn(name)}`);
    return 0;
  } catch (error) {
    io.err(`UNREACHABLE: cannot reach ${url}: ${(error as Error).message}`);
    return 1;
  }
}
