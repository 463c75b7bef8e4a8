import type { HistoryEvent } from './events.js';
import type { Store } from './store.js';

const PAGE = 1000;

/** An execution's whole history, read from the store a page at a time. */
export async function readWholeHistory(store: Pick<Store, 'readHistory'>, executionId: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for (;;) {
    const page = await store.readHistory(executionId, events.at(-1)?.seq ?? 0, PAGE);
    events.push(...page);
    if (page.length < PAGE) return events;
  }
}
