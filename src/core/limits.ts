/**
 * Page sizes shared by the engine's checks and the HTTP API's schemas, so that a limit the API
 * accepts is never one the engine refuses (or the other way round).
 */

/** Executions per page of a listing. */
export const LIST_LIMIT = { min: 1, max: 500, default: 50 } as const;

/** History events per page. */
export const HISTORY_LIMIT = { min: 1, max: 1000, default: 100 } as const;
