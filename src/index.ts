/** Stepwise's public API. Everything a user imports comes from here. */
export { workflow, Sequence, type TaskOptions, type WorkflowOptions } from './dsl/builder.js';
export { Workflow, isWorkflow, type WorkflowDescription } from './dsl/workflow.js';
export type { InputSchema, JsonSchema, StandardSchemaV1 } from './dsl/input-schema.js';
export type { StepContext, Handler, CatchRule, CompensationOptions } from './dsl/definition.js';
export type { StateDescription } from './dsl/describe.js';
export type { WorkflowContext, WorkflowEvent, WorkflowCommand } from './dsl/machine-types.js';
export { Engine, type EngineOptions, type Logger } from './engine/engine.js';
export { replay, restore, outcomeOf, machineEventOf } from './engine/decide.js';
export { openStore } from './persistence/open.js';
export { SqliteStore, type SqliteStoreOptions } from './persistence/sqlite/sqlite-store.js';
export { PostgresStore, type PostgresStoreOptions } from './persistence/postgres/postgres-store.js';
export { StepwiseError, DefinitionError, TerminalError, ErrorCodes, StepErrorCodes, type ErrorCode, type StepError } from './core/errors.js';
export { ExecutionStatus } from './core/status.js';
export { HistoryEventType, type HistoryEvent } from './core/events.js';
export { VirtualClock, systemClock, type Clock } from './core/clock.js';
export type { RetryPolicy } from './core/retry-policy.js';
export type { Store, ExecutionSummary, StoredExecution } from './core/store.js';
