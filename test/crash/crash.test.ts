import { copyFileSync, existsSync, mkdtempSync, rmSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { recordCrash, runToEnd, scenario, startRun, type Scenario } from '../fixtures/crash-harness.js';
import { checkAll, readDb, type Report } from '../fixtures/invariants.js';
import { readSideLog } from '../fixtures/side-log.js';
import { until } from '../helpers/until.js';

/**
 * Issue 2: a child process running executions is killed with SIGKILL inside a handler, between
 * steps, during a wait and during a compensation; a new process resumes; the stored history
 * proves invariants 1, 2, 3 and 5 (and 4 for the saga). Every kill is placed by a handshake, not
 * a race: a handler the child holds (`HELD` on its stdout), a fault point it reaches, a state read
 * from the file, or a clock the restart runs hours ahead. The child is compiled JS from dist/
 * (test/fixtures/crash-worker.ts); `npm test` builds it first, and the harness refuses a stale one.
 */

const root = mkdtempSync(join(tmpdir(), 'stepwise-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (executions: Scenario['executions']) => scenario(mkdtempSync(join(root, `s${++n}-`)), executions);

function checkoutInput(id: string, simulate: Record<string, unknown>) {
  return { orderId: `order-${id}`, customer: { id: `cust-${id}`, email: `${id}@example.com` }, items: [{ sku: 'sku-1', qty: 2, price: 9.5 }], simulate };
}
const co = (id: string, simulate: Record<string, unknown> = {}) => ({ workflow: 'checkout', id, input: checkoutInput(id, simulate) });
const tr = (id: string, input: Record<string, unknown> = {}) => ({ workflow: 'trip', id, input: { tripId: id, ...input } });

function verify(s: Scenario): Report {
  expect(s.versions?.checkout).toBeDefined();
  expect(s.versionConflicts).toEqual([]);
  const report = checkAll({ dbPath: s.db, logPath: s.log, expected: s.executions, crashes: s.crashes, versions: s.versions });
  expect(report.violations).toEqual([]);
  expect(report.summary.asExpected).toBe(s.executions.length);
  return report;
}

const calls = (s: Scenario, exec: string, kind: string, key: string) =>
  readSideLog(s.log).filter((c) => c.ev === 'start' && c.exec === exec && c.kind === kind && c.key === key);
const ends = (s: Scenario, run: number, exec: string, kind: string, key: string) =>
  readSideLog(s.log).filter((c) => c.ev === 'end' && c.run === run && c.exec === exec && c.kind === kind && c.key === key);

describe('crash: SIGKILL at four points, then resume', () => {
  it('inside a handler: the step runs again with the same key and attempt; completed steps never do', async () => {
    const s = fresh([
      co('h-valid', { stepDelayMs: 30 }),
      co('h-oos', { stepDelayMs: 30, outOfStock: true }),
      co('h-retry', { stepDelayMs: 20, paymentTransientFailures: 2 }),
      tr('h-trip', { stepDelayMs: 30 }),
    ]);

    // Run 0 dies inside h-valid's processPayment: the call is logged, then held (it never returns)
    // until the kill. The trip's bookCar is held too, so it cannot complete before run 1.
    const r0 = startRun(s, { hold: ['task:h-valid:processPayment:1', 'task:h-trip:bookCar'] });
    expect(await r0.waitForLine((l) => l === 'HELD task h-valid processPayment 1')).toBeDefined();
    await r0.kill();
    const c0 = (await recordCrash(s, r0, 'inside processPayment'))!;
    expect(c0.done.has('h-valid|task|validateCart')).toBe(true);
    expect(c0.done.has('h-valid|task|processPayment')).toBe(false);
    expect(c0.owed.some((w) => w.executionId === 'h-valid' && w.key === 'processPayment' && w.attempt === 1)).toBe(true);
    expect(calls(s, 'h-valid', 'task', 'processPayment').map((c) => c.run)).toEqual([0]);
    expect(ends(s, 0, 'h-valid', 'task', 'processPayment')).toEqual([]); // it was mid-handler

    // Run 1 dies inside the trip's third booking.
    const r1 = startRun(s, { hold: ['task:h-trip:bookCar'] });
    expect(await r1.waitForLine((l) => l.startsWith('HELD task h-trip bookCar '))).toBeDefined();
    await r1.kill();
    const c1 = (await recordCrash(s, r1, 'inside bookCar'))!;
    expect(c1.owed.some((w) => w.executionId === 'h-trip' && w.key === 'bookCar')).toBe(true);
    expect(c1.done.has('h-trip|task|bookCar')).toBe(false);
    expect(ends(s, 1, 'h-trip', 'task', 'bookCar')).toEqual([]);

    await runToEnd(s);
    verify(s);

    // Invariant 2, for the very handler that was cut: called again, same idempotency key, same attempt.
    const pay = calls(s, 'h-valid', 'task', 'processPayment');
    expect(pay.length).toBeGreaterThanOrEqual(2);
    expect(pay[0].run).toBe(0);
    expect(pay.some((c) => c.run > 0 && c.attempt === 1 && c.idem === 'h-valid:processPayment')).toBe(true);
    expect(new Set(pay.map((c) => c.idem))).toEqual(new Set(['h-valid:processPayment']));
    // Invariant 1: validateCart committed before the crash, so it ran in run 0 only.
    expect(calls(s, 'h-valid', 'task', 'validateCart').map((c) => c.run)).toEqual([0]);
    const car = calls(s, 'h-trip', 'task', 'bookCar');
    expect(car.filter((c) => c.run === 1).length).toBe(1);
    expect(car.some((c) => c.run > 1 && c.idem === 'h-trip:bookCar')).toBe(true);
  });

  it('between steps: killed at the engine fault points around a commit', async () => {
    const s = fresh([
      co('b-valid', { stepDelayMs: 20 }),
      co('b-retry', { stepDelayMs: 20, paymentTransientFailures: 1 }),
      co('b-declined', { stepDelayMs: 20, paymentDeclined: true }),
      co('b-oos', { stepDelayMs: 20, outOfStock: true }),
      tr('b-trip', { stepDelayMs: 20, reject: true }),
    ]);
    // Run 0 starts b-valid alone, so its commits are deterministic: #1 creates it QUEUED (one order
    // per customer), #2 begins it and starts validateCart, #3 records validateCart's success and
    // starts processPayment. Dying right after #3 is dying between two steps.
    const r0 = startRun(s, { crashAt: 'after-commit:3', start: 1 });
    expect((await r0.exited).signal, r0.stderr).toBe('SIGKILL');
    const c0 = (await recordCrash(s, r0, 'after-commit:3'))!;
    const h0 = readDb(s.db).history.get('b-valid')!;
    expect(h0.map((e) => `${e.type} ${e.step ?? ''}`.trim())).toEqual([
      'ExecutionStarted', 'ExecutionQueued', 'StepStarted validateCart', 'StepSucceeded validateCart', 'StateEntered cartValid', 'StepStarted processPayment',
    ]);
    expect(c0.owed.map((w) => `${w.executionId} ${w.key} ${w.attempt}`)).toEqual(['b-valid processPayment 1']);
    expect(calls(s, 'b-valid', 'task', 'processPayment')).toEqual([]);

    // Then every execution, and a kill at a fault point in each run.
    const points = ['before-commit:3', 'after-commit:1', 'after-commit:4', 'before-commit:2', 'after-commit:3'];
    let betweenSteps = 0;
    for (const at of points) {
      const run = startRun(s, { crashAt: at });
      const exit = await run.exited;
      expect(exit.signal, `run ${run.run} (${at}) should have killed itself: ${run.stderr}`).toBe('SIGKILL');
      expect(run.lines).toContain(`FAULT ${at.replace(':', ' ')}`);
      const crash = (await recordCrash(s, run, at))!;
      if (at.startsWith('after-commit')) {
        // The batch is durable and its handlers were not started: steps committed as started, handlers never called.
        const log = readSideLog(s.log).filter((c) => c.run === run.run && c.ev === 'start');
        const view = readDb(s.db);
        betweenSteps += crash.owed.filter((w) => {
          const started = (view.history.get(w.executionId) ?? []).some((e) => (e.type === 'StepStarted' || e.type === 'CompensationStarted') && e.data?.key === w.key && e.attempt === w.attempt);
          return started && !log.some((c) => c.exec === w.executionId && c.key === w.key && c.attempt === w.attempt);
        }).length;
      }
    }
    expect(betweenSteps).toBeGreaterThan(0);
    await runToEnd(s);
    const report = verify(s);
    expect(report.summary.owedAtCrashes).toBeGreaterThan(0);
    // processPayment, owed at the first crash, ran afterwards (only) as its first attempt, with its own key.
    const pay = calls(s, 'b-valid', 'task', 'processPayment');
    expect(pay.length).toBeGreaterThan(0);
    expect(pay.every((c) => c.run > 0 && c.attempt === 1 && c.idem === 'b-valid:processPayment')).toBe(true);
  }, 60_000); // seven worker processes, one after another

  it('during a wait: the timer fires once, never early, across two kills and an overdue restart', async () => {
    // Waits of hours, and restarts whose clocks run hours ahead (--clock-offset-ms): no timer can
    // come due while a run is meant to find it pending, however slow the machine.
    const HOUR = 3_600_000;
    const s = fresh([
      co('w-1', { shippingDelayMs: 1 * HOUR }),
      co('w-2', { shippingDelayMs: 2 * HOUR }),
      co('w-3', { shippingDelayMs: 3 * HOUR, paymentTransientFailures: 1 }),
    ]);
    const timerEvents = (type: string) => {
      if (!existsSync(s.db)) return [];
      const view = readDb(s.db);
      return s.executions.filter((e) => (view.history.get(e.id) ?? []).some((h) => h.type === type)).map((e) => e.id);
    };

    // Run 0 dies once all three are in their wait (read from the file while it runs).
    const r0 = startRun(s);
    await until('all three executions reach their wait', () => timerEvents('TimerStarted').length === 3);
    await r0.kill();
    const c0 = (await recordCrash(s, r0, 'during the wait'))!;
    expect(c0.pendingTimers.size).toBe(3);

    // Run 1 comes back 90 minutes later: w-1's timer is overdue and fires; the others are not due
    // and stay pending. It dies once w-1's has fired.
    const r1 = startRun(s, { clockOffsetMs: 1.5 * HOUR });
    await until('the overdue timer fires on restart', () => timerEvents('TimerFired').includes('w-1'));
    await r1.kill();
    const c1 = (await recordCrash(s, r1, 'during the wait, again'))!;
    expect([...c1.pendingTimers.keys()].sort()).toEqual([...c0.pendingTimers.keys()].filter((k) => !k.startsWith('w-1|')).sort());

    // The last run comes back hours later still: every timer is overdue and fires at once.
    await runToEnd(s, { clockOffsetMs: 4 * HOUR });
    const report = verify(s);
    expect(report.summary.timers).toBe(3);
    expect(report.summary.timersPendingAtCrashes).toBe(5);
    const view = readDb(s.db);
    for (const e of s.executions) {
      const h = view.history.get(e.id)!;
      const started = h.filter((x) => x.type === 'TimerStarted');
      const fired = h.filter((x) => x.type === 'TimerFired');
      expect(started).toHaveLength(1);
      expect(fired).toHaveLength(1);
      expect(fired[0].timestamp).toBeGreaterThanOrEqual(started[0].data!.dueAt as number);
    }
  });

  it('during a compensation: compensations resume in reverse order, once each, with their own retries', async () => {
    const s = fresh([
      tr('c-trip', { stepDelayMs: 20, compDelayMs: 20, compFailures: 1, reject: true }),
      tr('c-trip2', { stepDelayMs: 10, compDelayMs: 20, reject: true }),
      co('c-oos', { stepDelayMs: 20, outOfStock: true }),
      co('c-valid', { stepDelayMs: 20 }),
    ]);
    // Run 0 dies inside cancelHotel (the middle compensation; cancelCar already succeeded after a
    // retry), held there until the kill.
    const r0 = startRun(s, { hold: ['compensation:c-trip:bookHotel:1'] });
    expect(await r0.waitForLine((l) => l === 'HELD compensation c-trip bookHotel 1')).toBeDefined();
    await r0.kill();
    const c0 = (await recordCrash(s, r0, 'inside cancelHotel'))!;
    expect(c0.done.has('c-trip|compensation|bookCar')).toBe(true);
    expect(c0.owed.some((w) => w.executionId === 'c-trip' && w.kind === 'compensation' && w.key === 'bookHotel' && w.attempt === 1)).toBe(true);

    // Run 1 dies inside cancelFlight's retry.
    const r1 = startRun(s, { hold: ['compensation:c-trip:bookFlight:2'] });
    expect(await r1.waitForLine((l) => l === 'HELD compensation c-trip bookFlight 2')).toBeDefined();
    await r1.kill();
    const c1 = (await recordCrash(s, r1, 'inside cancelFlight'))!;
    expect(c1.done.has('c-trip|compensation|bookHotel')).toBe(true);

    await runToEnd(s);
    verify(s);
    const view = readDb(s.db);
    const comps = view.history.get('c-trip')!.filter((e) => e.type === 'CompensationSucceeded').map((e) => e.step);
    expect(comps).toEqual(['cancelCar', 'cancelHotel', 'cancelFlight']);
    const hotel = calls(s, 'c-trip', 'compensation', 'bookHotel');
    expect(hotel.map((c) => [c.run, c.attempt])).toEqual([[0, 1], [1, 1], [1, 2]]);
    expect(new Set(hotel.map((c) => c.idem))).toEqual(new Set(['c-trip:bookHotel:compensate']));
    expect(calls(s, 'c-trip', 'compensation', 'bookCar').every((c) => c.run === 0)).toBe(true);
    const flight = calls(s, 'c-trip', 'compensation', 'bookFlight');
    expect(flight.filter((c) => c.attempt === 2).map((c) => c.run)).toEqual([1, 2]);
  });

  it('the checks are not vacuous: tampered stores and side logs are caught', async () => {
    const s = fresh([co('t-valid', { shippingDelayMs: 50 }), tr('t-trip', { reject: true })]);
    await runToEnd(s);
    verify(s);

    // A second success for a step, a snapshot that replay does not give, and a re-run after a commit.
    const db = join(s.dir, 'tampered.db');
    copyFileSync(s.db, db);
    const log = join(s.dir, 'tampered.log');
    copyFileSync(s.log, log);
    const raw = new Database(db);
    const last = raw.prepare("SELECT MAX(seq) FROM history WHERE execution_id = 't-valid'").pluck().get() as number;
    raw.prepare("UPDATE history SET seq = seq + 1 WHERE execution_id = 't-valid' AND seq = ?").run(last);
    raw.prepare("INSERT INTO history (execution_id, seq, type, ts, step, attempt, data) VALUES ('t-valid', ?, 'StepSucceeded', 0, 'sendReceipt', 1, ?)")
      .run(last, JSON.stringify({ key: 'sendReceipt', output: null }));
    raw.prepare("UPDATE executions SET last_seq = last_seq + 1 WHERE id = 't-valid'").run();
    raw.prepare("UPDATE executions SET snapshot = json_set(snapshot, '$.context.attempts.bookFlight', 7) WHERE id = 't-trip'").run();
    raw.close();
    const line = JSON.parse(readFileSync(s.log, 'utf8').split('\n')[0]);
    appendFileSync(log, `${JSON.stringify({ ...line, run: 9 })}\n`);

    const crash = { run: 1, how: 'pretend', done: new Set([`${line.exec}|${line.kind}|${line.key}`]), owed: [], lastSeq: new Map(), pendingTimers: new Map() };
    const report = checkAll({ dbPath: db, logPath: log, expected: s.executions, crashes: [crash], versions: s.versions });
    const text = report.violations.join('\n');
    expect(text).toMatch(/t-valid: task\|sendReceipt has 2 successes/);
    expect(text).toMatch(/t-trip: replayed snapshot differs/);
    expect(text).toMatch(/invariant 1: .*called it again/);
  });
});

describe('crash: SIGKILL around events, children and redrives, then resume', () => {
  const history = (s: Scenario, id: string) => readDb(s.db).history.get(id) ?? [];
  const types = (s: Scenario, id: string, type: string) => history(s, id).filter((e) => e.type === type);

  it('after an event is accepted and before it is consumed: the next run consumes it, once', async () => {
    // The review arrives while processPayment is held, so it waits in the mailbox (EventReceived
    // without EventConsumed); the run dies at the commit that accepted it.
    const s = fresh([{ ...co('e-review', { fraudReview: true }), events: [{ id: 'review-1', name: 'review', payload: { approved: true } }] }]);
    const r0 = startRun(s, { hold: ['task:e-review:processPayment:1'], crashWhen: 'event-accepted' });
    expect((await r0.exited).signal, r0.stderr).toBe('SIGKILL');
    expect(r0.lines).toContain('FAULT event-accepted');
    await recordCrash(s, r0, 'event accepted, not consumed');
    expect(types(s, 'e-review', 'EventReceived').map((e) => e.data?.id)).toEqual(['review-1']);
    expect(types(s, 'e-review', 'EventConsumed')).toEqual([]);

    await runToEnd(s); // sends the same event id again: a duplicate, nothing changes
    const report = verify(s);
    expect(report.summary.eventsReceived).toBe(1);
    expect(report.summary.eventsConsumed).toBe(1);
    expect(types(s, 'e-review', 'EventConsumed').map((e) => e.data?.id)).toEqual(['review-1']);
  });

  it('between a child\'s creation and its first step: the child begins in the next run, and only one exists', async () => {
    const s = fresh([co('k-ship')]);
    const r0 = startRun(s, { crashWhen: 'child-created' });
    expect((await r0.exited).signal, r0.stderr).toBe('SIGKILL');
    expect(r0.lines).toContain('FAULT child-created');
    await recordCrash(s, r0, 'child created, not begun');
    const childId = 'k-ship:scheduleShipping:1';
    expect(types(s, 'k-ship', 'StepStarted').filter((e) => e.step === 'scheduleShipping').map((e) => e.data?.childId)).toEqual([childId]);
    expect(history(s, childId).map((e) => e.type)).toEqual(['ExecutionStarted']);
    expect(calls(s, childId, 'task', 'bookCarrier')).toEqual([]);

    await runToEnd(s);
    const report = verify(s);
    expect(report.summary.children).toBe(1);
    expect(calls(s, childId, 'task', 'bookCarrier').map((c) => c.run)).toEqual([1]);
  });

  it('during a redrive: the committed redrive resumes in the next run, paying nothing twice', async () => {
    // The carrier is away for twelve seconds: the worker's start-up (seconds on a loaded machine)
    // and the child's three attempts (under one second) fit well inside. The run redrives the held
    // failure after that and dies at the redrive's commit, before it re-enters.
    const until = Date.now() + 12_000;
    const s = fresh([{ ...co('r-ship', { shippingUnavailableUntil: until }), redrive: { code: 'Shipping.Unavailable', after: until } }]);
    const r0 = startRun(s, { crashWhen: 'redrive-queued' });
    expect((await r0.exited).signal, r0.stderr).toBe('SIGKILL');
    expect(r0.lines).toContain('FAULT redrive-queued');
    await recordCrash(s, r0, 'redrive committed, not re-entered');
    expect(types(s, 'r-ship', 'ExecutionFailed')).toHaveLength(1);
    expect(types(s, 'r-ship', 'ExecutionRedriven')).toEqual([]);
    expect(types(s, 'r-ship', 'CompensationStarted')).toEqual([]);

    await runToEnd(s);
    const report = verify(s);
    expect(report.summary.redrives).toBe(1);
    expect(report.summary.children).toBe(2);
    expect(types(s, 'r-ship', 'ExecutionRedriven').map((e) => e.data?.from)).toEqual(['scheduleShipping']);
    // Completed steps never run again: processPayment ran in run 0 only.
    expect(calls(s, 'r-ship', 'task', 'processPayment').map((c) => c.run)).toEqual([0]);
    expect(calls(s, 'r-ship:scheduleShipping.2:1', 'task', 'bookCarrier').map((c) => c.run)).toEqual([1]);
  }, 60_000); // the carrier's twelve seconds away, then two worker processes
});
