/** Activities, task tokens and redrive through the real @aws-sdk/client-sfn against a listening server. */
import {
  CreateActivityCommand, CreateStateMachineCommand, DeleteActivityCommand, DescribeActivityCommand, DescribeExecutionCommand,
  GetActivityTaskCommand, GetExecutionHistoryCommand, InvalidDefinition, InvalidOutput, InvalidToken, ListActivitiesCommand,
  RedriveExecutionCommand, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, StartExecutionCommand, TaskTimedOut,
  ActivityDoesNotExist, ExecutionNotRedrivable, type SFNClient,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { startAwsHarness, type AwsHarness } from './aws-harness.js';

let h: AwsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ACTIVITY = 'arn:aws:states:us-east-1:123456789012:activity:charge';

async function create(sfn: SFNClient, name: string, states: Record<string, unknown>, startAt = 'Charge'): Promise<string> {
  const out = await sfn.send(new CreateStateMachineCommand({ name, definition: JSON.stringify({ StartAt: startAt, States: states }), roleArn: 'arn:aws:iam::123456789012:role/test' }));
  return out.stateMachineArn!;
}

/** Polls until a task arrives (each poll is short in these tests). */
async function take(sfn: SFNClient, workerName = 'w1'): Promise<{ taskToken: string; input: unknown }> {
  for (;;) {
    const got = await sfn.send(new GetActivityTaskCommand({ activityArn: ACTIVITY, workerName }));
    if (got.taskToken) return { taskToken: got.taskToken, input: JSON.parse(got.input!) };
  }
}

describe('activities over the AWS protocol', () => {
  it('hands an activity Task to GetActivityTask with its effective input; SendTaskSuccess output goes through ResultSelector and ResultPath', async () => {
    h = await startAwsHarness({ activityPollMs: 200 });
    const sfn = h.client();
    const arn = await create(sfn, 'pay', {
      Charge: {
        Type: 'Task', Resource: ACTIVITY, Parameters: { 'amount.$': '$.order.total', 'execution.$': '$$.Execution.Name' },
        ResultSelector: { 'id.$': '$.chargeId' }, ResultPath: '$.charge', HeartbeatSeconds: 30, End: true,
      },
    });
    await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'p1', input: JSON.stringify({ order: { total: 42 } }) }));
    const task = await take(sfn);
    expect(task.input).toEqual({ amount: 42, execution: 'p1' });
    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }))).resolves.toBeDefined();
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: JSON.stringify({ chargeId: 'ch_1', extra: true }) }));
    expect((await h.engine.waitForEnd('p1', 10_000)).status).toBe('SUCCEEDED');
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:states:local:000000000000:execution:pay:p1' }));
    expect(JSON.parse(described.output!)).toEqual({ order: { total: 42 }, charge: { id: 'ch_1' } });
    // The same token again: its task is closed.
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: described.executionArn }));
    expect(history.events!.map((e) => e.type)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'ActivityScheduled', 'ActivityStarted', 'ActivitySucceeded', 'TaskStateExited', 'ExecutionSucceeded']);
    expect(history.events![2].activityScheduledEventDetails).toMatchObject({ resource: ACTIVITY });
    expect(history.events![3].activityStartedEventDetails).toEqual({ workerName: 'w1' });
    expect(JSON.parse(history.events![4].activitySucceededEventDetails!.output!)).toEqual({ chargeId: 'ch_1', extra: true });
  });

  it('runs an activity inside a Parallel branch', async () => {
    h = await startAwsHarness({ activityPollMs: 200 });
    const sfn = h.client();
    const arn = await create(sfn, 'fan', {
      Both: {
        Type: 'Parallel', End: true,
        Branches: [
          { StartAt: 'Charge', States: { Charge: { Type: 'Task', Resource: ACTIVITY, InputPath: '$.n', End: true } } },
          { StartAt: 'Echo', States: { Echo: { Type: 'Pass', End: true } } },
        ],
      },
    }, 'Both');
    await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'fan1', input: '{"n":3}' }));
    const task = await take(sfn);
    expect(task.input).toBe(3);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '9' }));
    expect((await h.engine.waitForEnd('fan1', 10_000)).output).toEqual([9, { n: 3 }]);
  });

  it('answers {} with no taskToken when nothing arrives within the poll', async () => {
    h = await startAwsHarness({ activityPollMs: 100 });
    const got = await h.client().send(new GetActivityTaskCommand({ activityArn: ACTIVITY, workerName: 'idle' }));
    expect(got.taskToken).toBeUndefined();
    expect(got.input).toBeUndefined();
  });

  it('SendTaskFailure raises its error for Retry and Catch; bad tokens and bad output answer AWS error names', async () => {
    h = await startAwsHarness({ activityPollMs: 200 });
    const sfn = h.client();
    const arn = await create(sfn, 'pay', {
      Charge: {
        Type: 'Task', Resource: ACTIVITY, Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, MaxAttempts: 1, BackoffRate: 1 }],
        Catch: [{ ErrorEquals: ['CardDeclined'], ResultPath: '$.error', Next: 'Declined' }], End: true,
      },
      Declined: { Type: 'Pass', End: true },
    });
    await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'f1', input: '{"n":1}' }));
    const first = await take(sfn);
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: first.taskToken, output: '{not json' }))).rejects.toBeInstanceOf(InvalidOutput);
    await sfn.send(new SendTaskFailureCommand({ taskToken: first.taskToken, error: 'Flaky', cause: 'try again' }));
    const second = await take(sfn);
    expect(second.taskToken).not.toBe(first.taskToken);
    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: first.taskToken }))).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'forged' }))).rejects.toBeInstanceOf(InvalidToken);
    await sfn.send(new SendTaskFailureCommand({ taskToken: second.taskToken, error: 'CardDeclined', cause: 'insufficient funds' }));
    const ended = await h.engine.waitForEnd('f1', 10_000);
    expect(ended.status).toBe('SUCCEEDED');
    expect(ended.output).toEqual({ n: 1, error: { Error: 'CardDeclined', Cause: 'insufficient funds' } });
  });

  it('a task with no heartbeat within HeartbeatSeconds fails with States.HeartbeatTimeout, which Catch matches', async () => {
    h = await startAwsHarness({ activityPollMs: 200 });
    const sfn = h.client();
    const arn = await create(sfn, 'beat', {
      Charge: { Type: 'Task', Resource: ACTIVITY, HeartbeatSeconds: 1, Catch: [{ ErrorEquals: ['States.HeartbeatTimeout'], Next: 'Lapsed' }], End: true },
      Lapsed: { Type: 'Pass', End: true },
    });
    await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'b1', input: '{}' }));
    const task = await take(sfn);
    const ended = await h.engine.waitForEnd('b1', 10_000);
    expect(ended.output).toMatchObject({ Error: 'States.HeartbeatTimeout' });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: task.taskToken, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('RedriveExecution resumes a FAILED execution at the failed activity; a succeeded one is not redrivable', async () => {
    h = await startAwsHarness({ activityPollMs: 200 });
    const sfn = h.client();
    const arn = await create(sfn, 'pay', { Charge: { Type: 'Task', Resource: ACTIVITY, End: true } });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'r1', input: '{"n":2}' }));
    await sfn.send(new SendTaskFailureCommand({ taskToken: (await take(sfn)).taskToken, error: 'Down' }));
    expect((await h.engine.waitForEnd('r1', 10_000)).status).toBe('FAILED');
    const redriven = await sfn.send(new RedriveExecutionCommand({ executionArn }));
    expect(redriven.redriveDate).toBeInstanceOf(Date);
    const again = await take(sfn);
    expect(again.input).toEqual({ n: 2 });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: again.taskToken, output: '"paid"' }));
    expect((await h.engine.waitForEnd('r1', 10_000)).output).toBe('paid');
    await expect(sfn.send(new RedriveExecutionCommand({ executionArn }))).rejects.toBeInstanceOf(ExecutionNotRedrivable);
  });

  it('lambda:invoke.waitForTaskToken calls the handler with $$.Task.Token in the Payload and waits for SendTaskSuccess', async () => {
    let handed!: (payload: { token: string; order: number }) => void;
    const got = new Promise<{ token: string; order: number }>((resolve) => (handed = resolve));
    h = await startAwsHarness({ handlers: { approve: async (payload: unknown) => handed(payload as { token: string; order: number }) } });
    const sfn = h.client();
    const arn = await create(sfn, 'approval', {
      Ask: {
        Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:approve', Payload: { 'token.$': '$$.Task.Token', 'order.$': '$.order' } },
        ResultPath: '$.approval', End: true,
      },
    }, 'Ask');
    await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'a1', input: '{"order":7}' }));
    const payload = await got;
    expect(payload.order).toBe(7);
    expect((await h.engine.getExecution('a1')).status).toBe('RUNNING');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: payload.token, output: '{"approved":true}' }));
    expect((await h.engine.waitForEnd('a1', 10_000)).output).toEqual({ order: 7, approval: { approved: true } });
  });

  it('creates, describes, lists and deletes activities', async () => {
    h = await startAwsHarness();
    const sfn = h.client();
    const { activityArn } = await sfn.send(new CreateActivityCommand({ name: 'charge' }));
    expect(activityArn).toBe('arn:aws:states:local:000000000000:activity:charge');
    expect((await sfn.send(new CreateActivityCommand({ name: 'charge' }))).activityArn).toBe(activityArn);
    await sfn.send(new CreateActivityCommand({ name: 'audit' }));
    expect(await sfn.send(new DescribeActivityCommand({ activityArn }))).toMatchObject({ name: 'charge', activityArn });
    expect((await sfn.send(new ListActivitiesCommand({}))).activities!.map((a) => a.name)).toEqual(['audit', 'charge']);
    await sfn.send(new DeleteActivityCommand({ activityArn }));
    await expect(sfn.send(new DescribeActivityCommand({ activityArn }))).rejects.toBeInstanceOf(ActivityDoesNotExist);
  });

  it('refuses an activity or a .waitForTaskToken resource inside a Map iteration (which runs in process) and in JSONata mode', async () => {
    h = await startAwsHarness({ handlers: { approve: async () => null } });
    for (const Resource of [ACTIVITY, 'arn:aws:states:::lambda:invoke.waitForTaskToken']) {
      const map = { Type: 'Map', ItemProcessor: { StartAt: 'A', States: { A: { Type: 'Task', Resource, Parameters: { FunctionName: 'approve' }, End: true } } }, End: true };
      const error = await create(h.client(), 'm', { Fan: map }, 'Fan').catch((e: Error) => e);
      expect(error).toBeInstanceOf(InvalidDefinition);
      expect((error as Error).message).toContain('inside a Map iteration');
    }
    const jsonata = JSON.stringify({ QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Task', Resource: ACTIVITY, End: true } } });
    const error = await h.client().send(new CreateStateMachineCommand({ name: 'j', definition: jsonata, roleArn: 'arn:aws:iam::123456789012:role/test' })).catch((e: Error) => e);
    expect(error).toBeInstanceOf(InvalidDefinition);
    expect((error as Error).message).toContain('in JSONata mode');
  });
});
