/** The AWS protocol driven by the real @aws-sdk/client-sfn against a listening server. */
import {
  CreateStateMachineCommand, DeleteStateMachineCommand, DescribeExecutionCommand, DescribeStateMachineCommand, ExecutionAlreadyExists,
  GetExecutionHistoryCommand, InvalidDefinition, ListExecutionsCommand, ListStateMachinesCommand, StartExecutionCommand,
  StartSyncExecutionCommand, StateMachineDoesNotExist, StopExecutionCommand, UpdateStateMachineCommand, ValidateStateMachineDefinitionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { startAwsHarness, type AwsHarness } from './aws-harness.js';

let h: AwsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const definition = JSON.stringify({
  StartAt: 'Double',
  States: {
    Double: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:double', InputPath: '$.n', ResultPath: '$.doubled', Next: 'Big' },
    Big: { Type: 'Choice', Choices: [{ Variable: '$.doubled', NumericGreaterThan: 100, Next: 'TooBig' }], Default: 'Done' },
    TooBig: { Type: 'Fail', Error: 'TooBig', Cause: 'over 100' },
    Done: { Type: 'Succeed' },
  },
});

const handlers = {
  double: async (n: unknown) => (n as number) * 2,
  /** Ends only when its AbortSignal fires (StopExecution). */
  hang: (_x: unknown, ctx: { signal: AbortSignal }) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')))),
};

async function create(sfn: ReturnType<AwsHarness['client']>, name = 'doubler', def = definition) {
  const out = await sfn.send(new CreateStateMachineCommand({ name, definition: def, roleArn: 'arn:aws:iam::123456789012:role/test' }));
  return out.stateMachineArn!;
}

describe('AWS SDK against the Stepwise server', () => {
  it('creates, describes, lists, updates and deletes a state machine', async () => {
    h = await startAwsHarness({ handlers });
    const sfn = h.client();
    const arn = await create(sfn);
    expect(arn).toBe('arn:aws:states:local:000000000000:stateMachine:doubler');
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    expect(described).toMatchObject({ name: 'doubler', status: 'ACTIVE', type: 'STANDARD', definition });
    expect(described.creationDate).toBeInstanceOf(Date);
    expect(Math.abs(described.creationDate!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(await create(sfn)).toBe(arn); // same definition again: idempotent
    const listed = await sfn.send(new ListStateMachinesCommand({}));
    expect(listed.stateMachines!.map((s) => s.name)).toEqual(['doubler']);
    const updated = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', Result: 'v2', End: true } } });
    await sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: updated }));
    expect((await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }))).definition).toBe(updated);
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
    await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
  });

  it('refuses an invalid definition with InvalidDefinition naming the state and field, and validates without creating', async () => {
    h = await startAwsHarness({ handlers });
    const sfn = h.client();
    const bad = JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } });
    const error = await sfn.send(new CreateStateMachineCommand({ name: 'bad', definition: bad, roleArn: 'r' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidDefinition);
    expect((error as Error).message).toContain("state 'A', field 'Next'");
    const check = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: bad }));
    expect(check.result).toBe('FAIL');
    expect(check.diagnostics![0]).toMatchObject({ severity: 'ERROR', location: '/States/A/Next' });
    expect((await sfn.send(new ValidateStateMachineDefinitionCommand({ definition }))).result).toBe('OK');
  });

  it('runs an execution whose name is its Stepwise id, visible in the Stepwise API too', async () => {
    h = await startAwsHarness({ handlers });
    const sfn = h.client();
    const arn = await create(sfn);
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'order-1', input: JSON.stringify({ n: 21 }) }));
    expect(started.executionArn).toBe('arn:aws:states:local:000000000000:execution:doubler:order-1');
    await h.engine.waitForEnd('order-1', 10_000);
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(d.status).toBe('SUCCEEDED');
    expect(JSON.parse(d.output!)).toEqual({ n: 21, doubled: 42 });
    const own = await h.app.inject({ method: 'GET', url: '/v1/executions/order-1' });
    expect(own.statusCode).toBe(200);
    expect(JSON.parse(own.body)).toMatchObject({ id: 'order-1', workflow: 'doubler', status: 'SUCCEEDED', output: { n: 21, doubled: 42 } });
    const list = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'SUCCEEDED' }));
    expect(list.executions!.map((e) => e.name)).toEqual(['order-1']);
  });

  it('is idempotent on the execution name as AWS defines it', async () => {
    h = await startAwsHarness({ handlers });
    const sfn = h.client();
    const hanging = await create(sfn, 'hanging', JSON.stringify({ StartAt: 'H', States: { H: { Type: 'Task', Resource: 'hang', End: true } } }));
    const a = await sfn.send(new StartExecutionCommand({ stateMachineArn: hanging, name: 'same', input: '{"a":1}' }));
    const b = await sfn.send(new StartExecutionCommand({ stateMachineArn: hanging, name: 'same', input: '{"a":1}' }));
    expect(b.executionArn).toBe(a.executionArn);
    expect(b.startDate!.getTime()).toBe(a.startDate!.getTime());
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: hanging, name: 'same', input: '{"a":2}' }))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await sfn.send(new StopExecutionCommand({ executionArn: a.executionArn }));
    const stopped = await sfn.send(new DescribeExecutionCommand({ executionArn: a.executionArn }));
    expect(stopped.status).toBe('ABORTED');
    // Once ended, the name is taken even with the same input.
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: hanging, name: 'same', input: '{"a":1}' }))).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('StartSyncExecution answers the outcome, failure included', async () => {
    h = await startAwsHarness({ handlers });
    const sfn = h.client();
    const arn = await create(sfn);
    const ok = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ n: 2 }) }));
    expect(ok.status).toBe('SUCCEEDED');
    expect(JSON.parse(ok.output!)).toEqual({ n: 2, doubled: 4 });
    const failed = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: arn, input: JSON.stringify({ n: 60 }) }));
    expect(failed).toMatchObject({ status: 'FAILED', error: 'TooBig', cause: 'over 100' });
  });

  it('GetExecutionHistory gives AWS event types and details, pages with nextToken and reverses', async () => {
    h = await startAwsHarness({ handlers });
    const sfn = h.client();
    const arn = await create(sfn);
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'h1', input: JSON.stringify({ n: 1 }) }));
    await h.engine.waitForEnd('h1', 10_000);
    const all = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const types = all.events!.map((e) => e.type);
    expect(types).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited', 'ChoiceStateEntered', 'SucceedStateEntered', 'ExecutionSucceeded']);
    expect(all.events![0]).toMatchObject({ id: 1, previousEventId: 0, executionStartedEventDetails: { input: '{"n":1}' } });
    expect(all.events![0].timestamp).toBeInstanceOf(Date);
    expect(all.events![4].taskSucceededEventDetails!.output).toBe('{"n":1,"doubled":2}');
    expect(all.events![1].stateEnteredEventDetails!.name).toBe('Double');
    const first = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 4 }));
    expect(first.events!.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    const second = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 4, nextToken: first.nextToken }));
    expect(second.events!.map((e) => e.id)).toEqual([5, 6, 7, 8]);
    const reversed = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 2 }));
    expect(reversed.events!.map((e) => e.type)).toEqual(['ExecutionSucceeded', 'SucceedStateEntered']);
  });

  it('shows JSONata states, which run as stored steps, as their own state types in the history', async () => {
    h = await startAwsHarness({ handlers });
    const sfn = h.client();
    const arn = await create(sfn, 'jsonata', JSON.stringify({
      QueryLanguage: 'JSONata', StartAt: 'Add',
      States: { Add: { Type: 'Pass', Output: '{% $states.input.a + 1 %}', Next: 'Done' }, Done: { Type: 'Succeed' } },
    }));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'j1', input: '{"a":1}' }));
    await h.engine.waitForEnd('j1', 10_000);
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(history.events!.map((e) => e.type)).toEqual(['ExecutionStarted', 'PassStateEntered', 'PassStateExited', 'SucceedStateEntered', 'ExecutionSucceeded']);
    expect(history.events![2].stateExitedEventDetails).toMatchObject({ name: 'Add', output: '2' });
  });

  it('with a token: accepts it as the SigV4 access key id, refuses other keys', async () => {
    h = await startAwsHarness({ handlers, token: 's3cret-token' });
    await expect(h.client({ accessKeyId: 's3cret-token' }).send(new ListStateMachinesCommand({}))).resolves.toMatchObject({ stateMachines: [] });
    const error = await h.client({ accessKeyId: 'wrong' }).send(new ListStateMachinesCommand({})).catch((e: Error) => e) as Error;
    expect(error.name).toBe('UnrecognizedClientException');
  });
});
