/**
 * Stable ARNs for state machines, executions and activities served by Stepwise. The region and account are
 * fixed placeholders: nothing here is an AWS resource, but clients and tools that parse ARNs get
 * the shape they expect. An execution ARN names the state machine and the execution id.
 */
export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';
const PREFIX = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}`;

export function stateMachineArn(name: string): string {
  return `${PREFIX}:stateMachine:${name}`;
}

export function executionArn(stateMachine: string, executionId: string): string {
  return `${PREFIX}:execution:${stateMachine}:${executionId}`;
}

/** The name in a state machine ARN, or undefined when the text is not one. */
export function parseStateMachineArn(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const m = /^arn:aws[\w-]*:states:[^:]*:[^:]*:stateMachine:([^:]+)$/.exec(arn);
  return m?.[1];
}

/** The state machine and execution id in an execution ARN. */
export function parseExecutionArn(arn: unknown): { stateMachine: string; executionId: string } | undefined {
  if (typeof arn !== 'string') return undefined;
  const m = /^arn:aws[\w-]*:states:[^:]*:[^:]*:execution:([^:]+):([^:]+)$/.exec(arn);
  return m ? { stateMachine: m[1], executionId: m[2] } : undefined;
}

export function activityArn(name: string): string {
  return `${PREFIX}:activity:${name}`;
}

/** The name in an activity ARN, or undefined when the text is not one. */
export function parseActivityArn(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  return /^arn:aws[\w-]*:states:[^:]*:[^:]*:activity:([^:]+)$/.exec(arn)?.[1];
}
