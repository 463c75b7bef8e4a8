/**
 * Hostile input for the AWS Step Functions protocol (POST / with X-Amz-Target), table-driven:
 * each row must get its 4xx and AWS error name as `{ __type, message }` (and the
 * x-amzn-errortype header), never a 5xx or a stack trace; afterwards the stored state machines
 * are exactly what they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsHarness, type AwsHarness } from '../asl/aws-harness.js';

const CT = 'application/x-amz-json-1.0';
const SM = 'arn:aws:states:local:000000000000:stateMachine:known';
const GOOD = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });

interface Row {
  name: string;
  target?: string;
  contentType?: string;
  body?: string;
  authorization?: string;
  status: number;
  type: string;
}

const op = (name: string) => `AWSStepFunctions.${name}`;
/** The shape of a Stepwise task token, issued by no one. */
const FORGED = `tsk_${'A'.repeat(32)}`;
const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

const rows: Row[] = [
  { name: 'no target', body: '{}', status: 400, type: 'UnknownOperationException' },
  { name: 'another service prefix', target: 'AmazonSQS.SendMessage', body: '{}', status: 400, type: 'UnknownOperationException' },
  { name: 'unknown operation', target: op('LaunchRockets'), body: '{}', status: 400, type: 'UnknownOperationException' },
  { name: 'prototype name as operation', target: op('constructor'), body: '{}', status: 400, type: 'UnknownOperationException' },
  { name: 'wrong content type', target: op('ListStateMachines'), contentType: 'application/json', body: '{}', status: 415, type: 'UnsupportedMediaType' },
  { name: 'no content type', target: op('ListStateMachines'), contentType: '', body: '{}', status: 415, type: 'UnsupportedMediaType' },
  { name: 'malformed JSON', target: op('ListStateMachines'), body: '{"maxResults":', status: 400, type: 'SerializationException' },
  { name: 'body is an array', target: op('ListStateMachines'), body: '[1,2]', status: 400, type: 'SerializationException' },
  { name: 'body nested 5000 deep', target: op('ListStateMachines'), body: deep(5000), status: 400, type: 'SerializationException' },
  { name: 'definition not JSON', target: op('CreateStateMachine'), body: JSON.stringify({ name: 'x', definition: '{nope', roleArn: 'r' }), status: 400, type: 'InvalidDefinition' },
  { name: 'definition without StartAt', target: op('CreateStateMachine'), body: JSON.stringify({ name: 'x', definition: '{"States":{}}', roleArn: 'r' }), status: 400, type: 'InvalidDefinition' },
  {
    name: 'definition with an unknown state type', target: op('CreateStateMachine'), status: 400, type: 'InvalidDefinition',
    body: JSON.stringify({ name: 'x', definition: JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Teleport', End: true } } }), roleArn: 'r' }),
  },
  {
    name: 'definition with a bad intrinsic', target: op('CreateStateMachine'), status: 400, type: 'InvalidDefinition',
    body: JSON.stringify({ name: 'x', definition: JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Parameters: { 'v.$': "States.Format('x', " }, End: true } } }), roleArn: 'r' }),
  },
  { name: 'definition not a string', target: op('CreateStateMachine'), body: JSON.stringify({ name: 'x', definition: { StartAt: 'A' }, roleArn: 'r' }), status: 400, type: 'ValidationException' },
  { name: 'invalid state machine name', target: op('CreateStateMachine'), body: JSON.stringify({ name: '../../etc', definition: GOOD }), status: 400, type: 'InvalidName' },
  { name: 'name taken with another definition', target: op('CreateStateMachine'), body: JSON.stringify({ name: 'known', definition: JSON.stringify({ StartAt: 'Q', States: { Q: { Type: 'Succeed' } } }) }), status: 400, type: 'StateMachineAlreadyExists' },
  { name: 'not an ARN', target: op('DescribeStateMachine'), body: JSON.stringify({ stateMachineArn: 'known' }), status: 400, type: 'InvalidArn' },
  { name: 'unknown state machine ARN', target: op('DescribeStateMachine'), body: JSON.stringify({ stateMachineArn: `${SM.slice(0, -5)}ghost` }), status: 400, type: 'StateMachineDoesNotExist' },
  { name: 'start on unknown ARN', target: op('StartExecution'), body: JSON.stringify({ stateMachineArn: `${SM.slice(0, -5)}ghost` }), status: 400, type: 'StateMachineDoesNotExist' },
  { name: 'execution input not JSON', target: op('StartExecution'), body: JSON.stringify({ stateMachineArn: SM, input: '{bad' }), status: 400, type: 'InvalidExecutionInput' },
  { name: 'execution name with a slash', target: op('StartExecution'), body: JSON.stringify({ stateMachineArn: SM, name: 'a/b' }), status: 400, type: 'InvalidName' },
  { name: 'unknown execution ARN', target: op('DescribeExecution'), body: JSON.stringify({ executionArn: 'arn:aws:states:local:000000000000:execution:known:ghost' }), status: 400, type: 'ExecutionDoesNotExist' },
  { name: 'execution ARN of another machine', target: op('DescribeExecution'), body: JSON.stringify({ executionArn: 'arn:aws:states:local:000000000000:execution:other:seeded' }), status: 400, type: 'ExecutionDoesNotExist' },
  { name: 'history page size out of range', target: op('GetExecutionHistory'), body: JSON.stringify({ executionArn: 'arn:aws:states:local:000000000000:execution:known:seeded', maxResults: 5000 }), status: 400, type: 'ValidationException' },
  { name: 'bad nextToken', target: op('ListStateMachines'), body: JSON.stringify({ nextToken: 'zzz' }), status: 400, type: 'InvalidToken' },
  { name: 'bad status filter', target: op('ListExecutions'), body: JSON.stringify({ stateMachineArn: SM, statusFilter: 'DONE' }), status: 400, type: 'ValidationException' },
  // Task tokens and activities.
  { name: 'forged task token (well-formed)', target: op('SendTaskSuccess'), body: JSON.stringify({ taskToken: FORGED, output: '{}' }), status: 400, type: 'TaskTimedOut' },
  { name: 'task token not one Stepwise issues', target: op('SendTaskSuccess'), body: JSON.stringify({ taskToken: 'AAAA-not-a-token', output: '{}' }), status: 400, type: 'InvalidToken' },
  { name: 'no task token', target: op('SendTaskSuccess'), body: JSON.stringify({ output: '{}' }), status: 400, type: 'InvalidToken' },
  { name: 'task token of 5000 characters', target: op('SendTaskHeartbeat'), body: JSON.stringify({ taskToken: 'x'.repeat(5000) }), status: 400, type: 'InvalidToken' },
  { name: 'task token not a string', target: op('SendTaskFailure'), body: JSON.stringify({ taskToken: { $ne: null } }), status: 400, type: 'InvalidToken' },
  { name: 'output not JSON', target: op('SendTaskSuccess'), body: JSON.stringify({ taskToken: FORGED, output: '{bad' }), status: 400, type: 'InvalidOutput' },
  { name: 'output an object, not a JSON string', target: op('SendTaskSuccess'), body: JSON.stringify({ taskToken: FORGED, output: { a: 1 } }), status: 400, type: 'InvalidOutput' },
  { name: 'output nested 5000 deep', target: op('SendTaskSuccess'), body: JSON.stringify({ taskToken: FORGED, output: deep(5000) }), status: 400, type: 'InvalidOutput' },
  { name: 'failure error over 256 characters', target: op('SendTaskFailure'), body: JSON.stringify({ taskToken: FORGED, error: 'e'.repeat(300) }), status: 400, type: 'ValidationException' },
  { name: 'heartbeat with a forged token', target: op('SendTaskHeartbeat'), body: JSON.stringify({ taskToken: FORGED }), status: 400, type: 'TaskTimedOut' },
  { name: 'activity task for a state machine ARN', target: op('GetActivityTask'), body: JSON.stringify({ activityArn: SM }), status: 400, type: 'InvalidArn' },
  { name: 'activity task without an ARN', target: op('GetActivityTask'), body: '{}', status: 400, type: 'InvalidArn' },
  { name: 'activity name with a slash', target: op('CreateActivity'), body: JSON.stringify({ name: '../x' }), status: 400, type: 'InvalidName' },
  { name: 'unknown activity', target: op('DescribeActivity'), body: JSON.stringify({ activityArn: 'arn:aws:states:local:000000000000:activity:ghost' }), status: 400, type: 'ActivityDoesNotExist' },
  { name: 'redrive of a succeeded execution', target: op('RedriveExecution'), body: JSON.stringify({ executionArn: 'arn:aws:states:local:000000000000:execution:known:seeded' }), status: 400, type: 'ExecutionNotRedrivable' },
  { name: 'redrive of an unknown execution', target: op('RedriveExecution'), body: JSON.stringify({ executionArn: 'arn:aws:states:local:000000000000:execution:known:ghost' }), status: 400, type: 'ExecutionDoesNotExist' },
];

let h: AwsHarness;
let guarded: AwsHarness;
beforeAll(async () => {
  h = await startAwsHarness();
  const create = await h.app.inject({ method: 'POST', url: '/', headers: { 'content-type': CT, 'x-amz-target': op('CreateStateMachine') }, payload: JSON.stringify({ name: 'known', definition: GOOD }) });
  expect(create.statusCode, create.body).toBe(200);
  await h.engine.startExecution('known', {}, { id: 'seeded' });
  await h.engine.waitForEnd('seeded', 10_000);
  guarded = await startAwsHarness({ token: 'tok-123' });
});
afterAll(async () => {
  await h?.close();
  await guarded?.close();
});

describe('hostile AWS protocol requests', () => {
  for (const row of rows) {
    it(`${row.name} → ${row.status} ${row.type}`, async () => {
      const headers: Record<string, string> = {};
      if (row.target !== undefined) headers['x-amz-target'] = row.target;
      if (row.contentType !== '') headers['content-type'] = row.contentType ?? CT;
      const res = await h.app.inject({ method: 'POST', url: '/', headers, payload: row.body ?? '' });
      expect(res.statusCode, res.body).toBe(row.status);
      expect(res.headers['x-amzn-errortype']).toBe(row.type);
      const body = JSON.parse(res.body);
      expect(body).toEqual({ __type: row.type, message: expect.any(String) });
      expect(body.message).not.toMatch(/\n\s+at /);
    });
  }

  it('leaves the stored state machines as they were', async () => {
    const records = await h.registry.list();
    expect(records.map((r) => [r.name, r.definition])).toEqual([['known', GOOD]]);
  });

  it('with a token: no credentials, a wrong bearer or a wrong SigV4 key are refused; the token passes either way', async () => {
    const send = (authorization?: string) => guarded.app.inject({
      method: 'POST', url: '/', payload: '{}',
      headers: { 'content-type': CT, 'x-amz-target': op('ListStateMachines'), ...(authorization ? { authorization } : {}) },
    });
    const sig = (key: string) => `AWS4-HMAC-SHA256 Credential=${key}/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00`;
    for (const bad of [undefined, 'Bearer nope', sig('nope'), 'AWS4-HMAC-SHA256 Credential=', 'Basic dG9rLTEyMzo=']) {
      const res = await send(bad);
      expect(res.statusCode, String(bad)).toBe(403);
      expect(JSON.parse(res.body).__type).toBe('UnrecognizedClientException');
    }
    expect((await send('Bearer tok-123')).statusCode).toBe(200);
    expect((await send(sig('tok-123'))).statusCode).toBe(200);
    // The rest of the API still needs the bearer token.
    expect((await guarded.app.inject({ method: 'GET', url: '/v1/executions', headers: { authorization: sig('tok-123') } })).statusCode).toBe(401);
  });
});
