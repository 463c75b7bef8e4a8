/**
 * How PostgresStore turns a batch of commits into as few statements as possible: each round is
 * ONE statement (sql.ts `commitRound`) that applies every commit in it, with JSON arrays for its
 * rows; its result says, per commit, whether it landed and why not.
 *
 * Commits that touch the same execution or the same work row cannot share a statement (a
 * statement may not modify one row twice, and the second commit's precondition depends on the
 * first's outcome), so they go to later rounds, in batch order. The engine sends at most one
 * commit per execution in a batch, so its batches are always one round.
 */
import type { CommitOutcome, ExecutionCommit, NewWork, WorkKind, WorkRef } from '../../core/store.js';
import { refKey } from '../../core/work-ref.js';

/** Splits a batch into rounds of commit indexes, each round free of shared executions and work rows. */
export function planRounds(commits: readonly ExecutionCommit[]): number[][] {
  const rounds: number[][] = [];
  const lastRound = new Map<string, number>();
  commits.forEach((c, index) => {
    const keys = [`x\u0000${c.executionId}`];
    for (const r of [...(c.consume ?? []), ...(c.schedule ?? []), ...(c.drop ?? [])]) keys.push(`w\u0000${refKey(r)}`);
    let round = 0;
    for (const k of keys) {
      const used = lastRound.get(k);
      if (used !== undefined && used + 1 > round) round = used + 1;
    }
    for (const k of keys) lastRound.set(k, round);
    (rounds[round] ??= []).push(index);
  });
  return rounds;
}

/** One round's statement parameters ($1..$6, JSON arrays), and which batch index each row `i` is. */
export interface EncodedRound {
  params: [updates: string, creates: string, events: string, consume: string, schedule: string, drop: string];
  /** `order[i]` is the batch index of the round's commit `i`. */
  order: number[];
}

/**
 * Encodes the commits at `indexes`. Row field `i` is the commit's position in the round.
 * JSON values the store keeps as text (snapshot, input, output, error, event data) travel as JSON
 * strings holding their `JSON.stringify` text, so they arrive byte for byte (a nested JSON value
 * extracted as text would lose a bare string's quotes).
 *
 * `notifyWithinMs`: a commit wakes other processes (NOTIFY) only when it schedules unleased work
 * due within this many ms of the commit's own time; later work is found by their poll loop.
 */
export function encodeRound(commits: readonly ExecutionCommit[], indexes: readonly number[], notifyWithinMs: number): EncodedRound {
  const updates: object[] = [];
  const creates: object[] = [];
  const events: object[] = [];
  const consume: object[] = [];
  const schedule: object[] = [];
  const drop: object[] = [];
  const order = [...indexes];
  order.forEach((index, i) => {
    const c = commits[index];
    if (c.create && c.consume && c.consume.length > 0) throw new Error('a creating commit cannot consume work');
    const now = c.events.length > 0 ? c.events[c.events.length - 1].timestamp : Date.now();
    const ended = c.endedAt !== undefined;
    const scheduled = lastWins(c.schedule ?? []);
    const row = {
      i, id: c.executionId, seq: c.expectedSeq, n: c.events.length, snap: JSON.stringify(c.snapshot), status: c.status,
      output: ended && c.output !== undefined ? JSON.stringify(c.output) : null,
      error: ended && c.error ? JSON.stringify(c.error) : null,
      ended: ended ? c.endedAt : null, now, reopen: c.reopen === true,
      wake: scheduled.some((w) => w.leaseOwner === undefined && w.dueAt <= now + notifyWithinMs),
    };
    if (c.create) {
      creates.push({ ...row, wf: c.create.workflow, ver: c.create.version, input: JSON.stringify(c.create.input ?? null), started: c.create.startedAt, trace: c.create.trace ?? null });
    } else updates.push(row);
    c.events.forEach((e, k) => {
      events.push({
        i, id: c.executionId, seq: c.expectedSeq + k + 1, type: e.type, ts: e.timestamp, step: e.step ?? null, attempt: e.attempt ?? null,
        data: e.data === undefined ? null : JSON.stringify(e.data),
      });
    });
    (c.consume ?? []).forEach((r, o) => consume.push({ i, o, eid: r.executionId, kind: r.kind, key: r.key, owner: r.owner }));
    for (const w of scheduled) {
      schedule.push({
        i, eid: w.executionId, kind: w.kind, key: w.key, attempt: w.attempt, due: w.dueAt, owner: w.leaseOwner ?? null, until: w.leaseUntil ?? null,
        queue: w.queue ?? null, token: w.tokenHash ?? null, deadline: w.deadline ?? null, hb: w.heartbeatMs ?? null,
      });
    }
    for (const r of c.drop ?? []) drop.push({ i, eid: r.executionId, kind: r.kind, key: r.key });
  });
  return {
    params: [JSON.stringify(updates), JSON.stringify(creates), JSON.stringify(events), JSON.stringify(consume), JSON.stringify(schedule), JSON.stringify(drop)],
    order,
  };
}

/** One result row of a round's statement: per commit, what it found and whether it landed. */
export interface RoundRow {
  i: number;
  /** The execution's new last_seq when the commit landed, else null. */
  last_seq: number | null;
  /** The execution's last_seq as the statement found it (locked), or null when it does not exist. */
  seen_seq: number | null;
  lost_execution_id: string | null;
  lost_kind: string | null;
  lost_key: string | null;
}

/** Writes each row's outcome into `outcomes` at its batch index (one row per commit of the round). */
export function decodeRound(commits: readonly ExecutionCommit[], round: EncodedRound, rows: readonly RoundRow[], outcomes: CommitOutcome[]): void {
  if (rows.length !== round.order.length) throw new Error(`commit statement answered ${rows.length} rows for ${round.order.length} commits`);
  for (const row of rows) {
    const index = round.order[row.i];
    const c = commits[index];
    if (row.last_seq !== null) outcomes[index] = { ok: true, lastSeq: row.last_seq };
    else if (c.create) outcomes[index] = { ok: false, reason: 'exists' };
    else if (row.seen_seq === c.expectedSeq && row.lost_kind !== null) {
      const work: WorkRef = { executionId: row.lost_execution_id!, kind: row.lost_kind as WorkKind, key: row.lost_key! };
      outcomes[index] = { ok: false, reason: 'lease-lost', work };
    } else outcomes[index] = { ok: false, reason: 'conflict' };
  }
}

/** The same ref scheduled twice in one commit: the last one wins (as applying them in order would). */
function lastWins(schedule: NewWork[]): NewWork[] {
  if (schedule.length < 2) return schedule;
  const byRef = new Map<string, NewWork>();
  for (const w of schedule) {
    const k = refKey(w);
    byRef.delete(k);
    byRef.set(k, w);
  }
  return byRef.size === schedule.length ? schedule : [...byRef.values()];
}
