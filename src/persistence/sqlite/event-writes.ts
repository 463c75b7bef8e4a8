/**
 * The SQLite side of correlated events (POST /v1/events): a commit's `eventWaits`, inside its
 * transaction, and `publishEvent`, `readCorrelatedEvents` and `purgeCorrelatedEvents`. One
 * process owns the file and runs each of these as one synchronous transaction, so a publish and
 * a commit that enters a wait on the same key never interleave: one of them sees the other.
 */
import type Database from 'better-sqlite3';
import type { CorrelatedEvent, ExecutionCommit, PublishOutcome } from '../../core/store.js';

/** Expired events purged by one publish: the table stays near one retention period's worth without a sweep of its own. */
const PURGE_PER_PUBLISH = 100;

interface EventRow { id: string; name: string; key: string; payload: string; received_at: number; expires_at: number }

function toEvent(row: EventRow): CorrelatedEvent {
  return { id: row.id, name: row.name, key: row.key, payload: JSON.parse(row.payload), receivedAt: row.received_at, expiresAt: row.expires_at };
}

/** An event whose delivery to some execution is still an 'event' row: its payload is needed. */
const STILL_NEEDED = `EXISTS (SELECT 1 FROM event_deliveries d JOIN work w ON w.execution_id = d.execution_id AND w.kind = 'event' AND w.key = d.event_id
  WHERE d.event_id = correlated_events.id)`;

export interface EventWrites {
  /** A commit's `eventWaits`: the execution's waits replaced, and kept events delivered to the ones it waits in. */
  commit(c: ExecutionCommit): void;
  publish(event: CorrelatedEvent, now: number): PublishOutcome;
  read(ids: readonly string[]): Map<string, CorrelatedEvent>;
  purge(now: number, limit: number): number;
}

export function prepareEventWrites(db: Database.Database): EventWrites {
  const dropWaits = db.prepare('DELETE FROM event_waits WHERE execution_id = ?');
  const addWait = db.prepare('INSERT OR IGNORE INTO event_waits (name, key, execution_id) VALUES (?, ?, ?)');
  const waiting = db.prepare('SELECT execution_id FROM event_waits WHERE name = ? AND key = ? ORDER BY execution_id').pluck();
  const kept = db.prepare('SELECT id, received_at FROM correlated_events WHERE name = ? AND key = ? AND expires_at > ? ORDER BY received_at, id');
  const deliver = db.prepare('INSERT OR IGNORE INTO event_deliveries (event_id, execution_id) VALUES (?, ?)');
  const deliveredTo = db.prepare('SELECT execution_id FROM event_deliveries WHERE event_id = ? ORDER BY execution_id').pluck();
  // Due at the event's arrival (never later than now): claims take rows in due order, so a
  // mailbox receives several kept events in the order they arrived.
  const addRow = db.prepare("INSERT OR IGNORE INTO work (execution_id, kind, key, attempt, due_at) VALUES (?, 'event', ?, 1, ?)");
  const getEvent = db.prepare('SELECT * FROM correlated_events WHERE id = ?');
  const insertEvent = db.prepare('INSERT INTO correlated_events (id, name, key, payload, received_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)');
  const expired = db.prepare(`SELECT id FROM correlated_events WHERE expires_at <= ? AND NOT ${STILL_NEEDED} ORDER BY expires_at LIMIT ?`).pluck();
  const deleteEvent = db.prepare('DELETE FROM correlated_events WHERE id = ?');
  const deleteDeliveries = db.prepare('DELETE FROM event_deliveries WHERE event_id = ?');

  /** Gives `executionId` an 'event' row for `eventId`, unless the event went to it before. */
  const deliverTo = (eventId: string, executionId: string, dueAt: number): boolean => {
    if (deliver.run(eventId, executionId).changes === 0) return false;
    addRow.run(executionId, eventId, dueAt);
    return true;
  };

  const purge = (now: number, limit: number): number => {
    const ids = expired.all(now, limit) as string[];
    for (const id of ids) {
      deleteEvent.run(id);
      deleteDeliveries.run(id);
    }
    return ids.length;
  };

  return {
    commit(c: ExecutionCommit): void {
      if (!c.eventWaits) return;
      const { waits, now } = c.eventWaits;
      dropWaits.run(c.executionId);
      for (const w of waits) {
        addWait.run(w.name, w.key, c.executionId);
        for (const e of kept.all(w.name, w.key, now) as Array<{ id: string; received_at: number }>) {
          deliverTo(e.id, c.executionId, Math.min(e.received_at, now));
        }
      }
    },

    publish: db.transaction((event: CorrelatedEvent, now: number): PublishOutcome => {
      purge(now, PURGE_PER_PUBLISH);
      const found = getEvent.get(event.id) as EventRow | undefined;
      if (found) return { created: false, event: toEvent(found), deliveredTo: deliveredTo.all(event.id) as string[] };
      insertEvent.run(event.id, event.name, event.key, JSON.stringify(event.payload ?? null), event.receivedAt, event.expiresAt);
      const to = (waiting.all(event.name, event.key) as string[]).filter((id) => deliverTo(event.id, id, now));
      return { created: true, event, deliveredTo: to };
    }),

    read(ids: readonly string[]): Map<string, CorrelatedEvent> {
      const found = new Map<string, CorrelatedEvent>();
      for (const id of new Set(ids)) {
        const row = getEvent.get(id) as EventRow | undefined;
        if (row) found.set(id, toEvent(row));
      }
      return found;
    },

    purge: db.transaction(purge),
  };
}
