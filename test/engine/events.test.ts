import { afterEach, describe, expect, it } from 'vitest';
import { HistoryEventType as T, replay, workflow } from '../../src/index.js';
import { trace, virtualEngine } from '../helpers/virtual-engine.js';

type Harness = Awaited<ReturnType<typeof virtualEngine>>;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HOUR = 3600_000;

const review = workflow<{ order: string }>('review')
  .task('pay', async () => ({ paid: true }), { resultPath: 'payment' })
  .waitForEvent<{ approved: boolean }, 'review'>('awaitReview', { event: 'review', timeoutMs: HOUR, resultPath: 'review' })
  .task('ship', async (d: { review: { approved: boolean } }) => ({ shipped: d.review.approved }))
  .build();

async function expectReplayMatches(id: string) {
  const stored = await h!.store.getExecution(id);
  const replayed = replay(review, await h!.history(id));
  expect({ value: replayed.value, context: replayed.context }).toEqual(stored!.snapshot);
}

describe('waitForEvent', () => {
  it('continues with the payload of an event sent while it waits, and records both sides', async () => {
    h = await virtualEngine([review]);
    const id = await h.start('review', { order: 'o1' });
    await h.settle();
    expect((await h.engine.getExecution(id)).status).toBe('RUNNING');
    const sent = await h.engine.sendEvent(id, 'review', { approved: true }, { id: 'r-1' });
    expect(sent).toEqual({ id: 'r-1', created: true });
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toEqual({ shipped: true });
    const events = await h.history(id);
    expect(trace(events, [T.EventReceived, T.EventConsumed, T.TimerStarted])).toEqual(['TimerStarted:awaitReview', 'EventReceived', 'EventConsumed:awaitReview']);
    const consumed = events.find((e) => e.type === T.EventConsumed)!;
    expect(consumed.data).toMatchObject({ id: 'r-1', name: 'review', payload: { approved: true } });
    await expectReplayMatches(id);
  });

  it('keeps events that arrive early, in order, and the wait takes the first', async () => {
    const slow = workflow('early')
      .wait('first', { durationMs: 1000 })
      .waitForEvent('a', { event: 'go', resultPath: 'one' })
      .waitForEvent('b', { event: 'go', resultPath: 'two' })
      .succeed('done')
      .build();
    h = await virtualEngine([slow]);
    const id = await h.start('early', {});
    await h.settle();
    await h.engine.sendEvent(id, 'go', 1);
    await h.engine.sendEvent(id, 'other', 'ignored');
    await h.engine.sendEvent(id, 'go', 2);
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toEqual({ one: 1, two: 2 });
  });

  it('changes nothing when the same event id arrives again', async () => {
    h = await virtualEngine([review]);
    const id = await h.start('review', { order: 'o2' });
    await h.settle();
    const before = (await h.history(id)).length;
    const again = await h.engine.sendEvent(id, 'note', { n: 1 }, { id: 'dup' });
    expect(again.created).toBe(true);
    await h.settle();
    const middle = (await h.history(id)).length;
    expect(middle).toBeGreaterThan(before);
    await expect(h.engine.sendEvent(id, 'note', { n: 2 }, { id: 'dup' })).resolves.toEqual({ id: 'dup', created: false });
    expect((await h.history(id)).length).toBe(middle);
    await h.settle();
    expect((await h.history(id)).filter((e) => e.type === T.EventReceived)).toHaveLength(1);
  });

  it('unconsumed events do not keep an execution from ending', async () => {
    const quick = workflow('quick').wait('w', { durationMs: 10 }).succeed('done').build();
    h = await virtualEngine([quick]);
    const id = await h.start('quick', {});
    await h.settle();
    await h.engine.sendEvent(id, 'nobody-waits', { x: 1 });
    expect((await h.runToEnd(id)).status).toBe('SUCCEEDED');
  });

  it('refuses an event for an ended execution (EXECUTION_ENDED) or an unknown one (EXECUTION_NOT_FOUND)', async () => {
    const quick = workflow('quick').succeed('done').build();
    h = await virtualEngine([quick]);
    const id = await h.start('quick', {});
    await h.runToEnd(id);
    await expect(h.engine.sendEvent(id, 'late', {})).rejects.toMatchObject({ code: 'EXECUTION_ENDED' });
    await expect(h.engine.sendEvent('nope', 'late', {})).rejects.toMatchObject({ code: 'EXECUTION_NOT_FOUND' });
  });

  it('times out with Stepwise.Timeout, which a catch rule takes', async () => {
    const wf = workflow('timeout')
      .waitForEvent('w', { event: 'e', timeoutMs: HOUR, catch: [{ errors: ['Stepwise.Timeout'], next: 'late' }] })
      .succeed('ok')
      .succeed('late')
      .build();
    h = await virtualEngine([wf]);
    const startedAt = h.clock.now();
    const id = await h.start('timeout', {});
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect((end.output as { error: { code: string } }).error.code).toBe('Stepwise.Timeout');
    const fired = (await h.history(id)).find((e) => e.type === T.TimerFired)!;
    expect(fired.timestamp).toBe(startedAt + HOUR);
  });

  it('a retry rule matching Stepwise.Timeout waits again, then the execution fails with it', async () => {
    const wf = workflow('retrywait')
      .waitForEvent('w', { event: 'e', timeoutMs: 1000, retry: [{ errors: ['Stepwise.Timeout'], maxAttempts: 3 }] })
      .succeed('ok')
      .build();
    h = await virtualEngine([wf]);
    const id = await h.start('retrywait', {});
    const end = await h.runToEnd(id);
    expect(end.status).toBe('FAILED');
    expect(end.error?.code).toBe('Stepwise.Timeout');
    expect((await h.history(id)).filter((e) => e.type === T.TimerFired)).toHaveLength(3);
  });

  it('an event that arrives during a retried wait is taken', async () => {
    const wf = workflow('retrywait2')
      .waitForEvent('w', { event: 'e', timeoutMs: 1000, retry: [{ errors: ['Stepwise.Timeout'], maxAttempts: 3 }] })
      .succeed('ok')
      .build();
    h = await virtualEngine([wf]);
    const id = await h.start('retrywait2', {});
    await h.advanceToNextTimer();
    await h.settle();
    await h.engine.sendEvent(id, 'e', 'late but in time');
    const end = await h.runToEnd(id);
    expect(end.status).toBe('SUCCEEDED');
    expect(end.output).toBe('late but in time');
  });
});
