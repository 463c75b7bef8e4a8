/**
 * What the page reads from the JSON API, typed by the server's own definitions: an execution and
 * a history event as src/api/present.ts shapes them, a state as src/dsl/describe.ts describes it.
 * Type-only imports: nothing of the server ends up in the bundle.
 */
import type { ApiExecution, ApiHistoryEvent } from '../../present.js';
import type { StateDescription } from '../../../dsl/describe.js';

export type { ApiExecution, ApiHistoryEvent, StateDescription };

/** GET /v1/executions */
export interface ExecutionListPage {
  items: ApiExecution[];
  nextCursor?: string;
}

/** GET /v1/executions/:id/history */
export interface HistoryPage {
  events: ApiHistoryEvent[];
  nextCursor?: string;
}

/**
 * GET /v1/workflows/:name: the part of `WorkflowDescription` (src/dsl/workflow.ts) the page
 * draws. Declared here because workflow.ts imports Node and xstate; test/page/layout.test.ts
 * passes a real `describe()` result to the layout, so a drift fails the Node type-check.
 */
export interface WorkflowGraph {
  name: string;
  version: string;
  startAt: string;
  states: StateDescription[];
}

/**
 * GET /v1/executions/:id/usage (`ExecutionUsageReport` in src/observability/usage-report.ts, which
 * imports Node's Buffer and so stays out of the browser's type-check).
 */
export interface UsageReport {
  usage: {
    stateTransitions: number;
    stepAttempts: number;
    retries: number;
    handlerMs: number;
    historyBytes: number;
    payloadBytes: number;
  };
  cost: { amount: number; currency: string };
}
