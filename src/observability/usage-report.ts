/**
 * Usage reports over the API's read port: one execution's usage and cost, and sums per workflow
 * per UTC day over a time range. Both read histories through the engine (one page of up to 1,000
 * events per call), so they cost reads, never writes; a range scan stops after
 * MAX_SCANNED_EXECUTIONS and says so (`complete: false`).
 */
import type { HistoryEvent } from '../core/events.js';
import type { ExecutionSummary } from '../core/store.js';
import { UsageCounter, addUsage, costOf, emptyUsage, type ExecutionUsage, type PriceTable } from './usage.js';

export interface UsageReads {
  getExecution(id: string): Promise<ExecutionSummary>;
  getHistory(id: string, options: { after?: string; limit?: number }): Promise<{ events: HistoryEvent[]; nextCursor?: string }>;
  listExecutions(query: { workflow?: string; limit?: number; cursor?: string }): Promise<{ items: ExecutionSummary[]; nextCursor?: string }>;
}

export const MAX_SCANNED_EXECUTIONS = 10_000;
const PAGE = 1000;

export interface ExecutionUsageReport {
  executionId: string;
  workflow: string;
  status: string;
  usage: ExecutionUsage;
  cost: { amount: number; currency: string };
}

export interface UsageDay {
  workflow: string;
  /** UTC day the executions started, YYYY-MM-DD. */
  day: string;
  executions: number;
  usage: ExecutionUsage;
  cost: { amount: number; currency: string };
}

/** Hands an execution's history to `take` one page at a time (a long history is never held whole). */
export async function forEachHistoryPage(reads: Pick<UsageReads, 'getHistory'>, id: string, take: (events: HistoryEvent[]) => void): Promise<void> {
  let after: string | undefined;
  do {
    const page = await reads.getHistory(id, { limit: PAGE, ...(after !== undefined ? { after } : {}) });
    take(page.events);
    after = page.nextCursor;
  } while (after !== undefined);
}

export async function usageOfExecution(reads: UsageReads, id: string): Promise<ExecutionUsage> {
  const counter = new UsageCounter();
  await forEachHistoryPage(reads, id, (events) => counter.add(events));
  return counter.usage;
}

export async function executionUsageReport(reads: UsageReads, id: string, prices?: PriceTable): Promise<ExecutionUsageReport> {
  const execution = await reads.getExecution(id);
  const usage = await usageOfExecution(reads, id);
  return { executionId: id, workflow: execution.workflow, status: execution.status, usage, cost: costOf(usage, prices) };
}

/** Sums for executions started in [from, to), per workflow per UTC day, newest day first. */
export async function usageByDay(
  reads: UsageReads, query: { workflow?: string; from: number; to: number }, prices?: PriceTable,
): Promise<{ days: UsageDay[]; total: { executions: number; usage: ExecutionUsage; cost: { amount: number; currency: string } }; complete: boolean }> {
  const days = new Map<string, UsageDay>();
  const total = { executions: 0, usage: emptyUsage() };
  let scanned = 0;
  let cursor: string | undefined;
  let complete = true;
  scan: do {
    const page = await reads.listExecutions({ limit: 100, ...(query.workflow ? { workflow: query.workflow } : {}), ...(cursor ? { cursor } : {}) });
    for (const e of page.items) {
      if (e.startedAt >= query.to) continue;
      if (e.startedAt < query.from) break scan; // listed newest first: nothing older can be in range
      if (++scanned > MAX_SCANNED_EXECUTIONS) {
        complete = false;
        break scan;
      }
      const usage = await usageOfExecution(reads, e.id);
      const day = new Date(e.startedAt).toISOString().slice(0, 10);
      const k = `${e.workflow}\u0000${day}`;
      let entry = days.get(k);
      if (!entry) days.set(k, (entry = { workflow: e.workflow, day, executions: 0, usage: emptyUsage(), cost: costOf(emptyUsage(), prices) }));
      entry.executions++;
      addUsage(entry.usage, usage);
      total.executions++;
      addUsage(total.usage, usage);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const list = [...days.values()].map((d) => ({ ...d, cost: costOf(d.usage, prices) }));
  list.sort((a, b) => (a.day === b.day ? a.workflow.localeCompare(b.workflow) : b.day.localeCompare(a.day)));
  return { days: list, total: { ...total, cost: costOf(total.usage, prices) }, complete };
}
