/** The shape of an Amazon States Language definition, as far as Stepwise reads it. */

export type AslStateType = 'Task' | 'Choice' | 'Parallel' | 'Map' | 'Wait' | 'Pass' | 'Succeed' | 'Fail';

export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

export interface AslCatcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
  /** JSONata mode. */
  Output?: unknown;
  Assign?: Record<string, unknown>;
}

/** One state; which fields apply depends on `Type` (validate.ts checks them). */
export interface AslState {
  Type: AslStateType;
  Comment?: string;
  Next?: string;
  End?: boolean;
  InputPath?: string | null;
  OutputPath?: string | null;
  Parameters?: unknown;
  ResultSelector?: unknown;
  ResultPath?: string | null;
  Result?: unknown;
  Resource?: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number;
  Retry?: AslRetrier[];
  Catch?: AslCatcher[];
  Choices?: Array<Record<string, unknown>>;
  Default?: string;
  Branches?: AslMachine[];
  ItemsPath?: string;
  ItemSelector?: unknown;
  ItemProcessor?: AslMachine & { ProcessorConfig?: { Mode?: string } };
  Iterator?: AslMachine;
  MaxConcurrency?: number;
  ToleratedFailureCount?: number;
  ToleratedFailurePercentage?: number;
  Seconds?: number;
  Timestamp?: string;
  SecondsPath?: string;
  TimestampPath?: string;
  Error?: string;
  Cause?: string;
  ErrorPath?: string;
  CausePath?: string;
  /** JSONata mode. */
  QueryLanguage?: string;
  Arguments?: unknown;
  Output?: unknown;
  Assign?: Record<string, unknown>;
}

export interface AslMachine {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  Version?: string;
  QueryLanguage?: string;
}
