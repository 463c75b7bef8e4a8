import type { StoreStats, WorkKind } from '../../core/store.js';

/** The gauge queries on PostgreSQL, in one round trip: due means unleased or lease expired. */
export function postgresStatsSql(s: string): string {
  return `
    SELECT 'running' AS what, workflow AS name, count(*)::bigint AS count, NULL::bigint AS oldest
      FROM ${s}.executions WHERE status = 'RUNNING' GROUP BY workflow
    UNION ALL
    SELECT 'due', kind, count(*)::bigint, min(due_at)
      FROM ${s}.work WHERE due_at <= $1::bigint AND (lease_owner IS NULL OR lease_until < $1::bigint) GROUP BY kind
    UNION ALL
    SELECT 'timers', NULL, count(*)::bigint, NULL FROM ${s}.work WHERE kind = 'timer'`;
}

export interface StatsRow {
  what: 'running' | 'due' | 'timers';
  name: string | null;
  count: string | number;
  oldest: string | number | null;
}

export function toStoreStats(rows: StatsRow[]): StoreStats {
  const stats: StoreStats = { running: [], due: [], timersPending: 0 };
  for (const r of rows) {
    if (r.what === 'running') stats.running.push({ workflow: r.name!, count: Number(r.count) });
    else if (r.what === 'due') stats.due.push({ kind: r.name as WorkKind, count: Number(r.count), oldestDueAt: Number(r.oldest) });
    else stats.timersPending = Number(r.count);
  }
  return stats;
}
