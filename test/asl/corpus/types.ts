/** One conformance case: a definition, its input, and what AWS's documentation says comes out. */
export interface AslCase {
  name: string;
  /** The AWS Step Functions documentation section the expectation follows. */
  doc: string;
  definition: Record<string, unknown>;
  input: unknown;
  output?: unknown;
  /** The ASL error name the execution fails with. */
  error?: string;
  cause?: string;
  /** Extra checks for outputs that vary (UUIDs, random numbers). */
  check?: (output: unknown) => void;
  /** Leave out of the second-oracle comparison (timeouts and other things it cannot run). */
  noOracle?: string;
}

/** A one-state machine: `state` named `name`, ending the execution. */
export function single(state: Record<string, unknown>, name = 'S'): Record<string, unknown> {
  const terminal = state.Type === 'Succeed' || state.Type === 'Fail' || state.Type === 'Choice';
  return { StartAt: name, States: { [name]: terminal ? state : { ...state, End: true } } };
}

/** A Pass state whose Parameters evaluate one `.$` expression into `value`. */
export function expr(expression: string): Record<string, unknown> {
  return single({ Type: 'Pass', Parameters: { 'value.$': expression } });
}

/** A Choice with one rule leading to 'Matched', else 'Otherwise' (both Pass states with a Result). */
export function choice(rule: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    StartAt: 'C',
    States: {
      C: { Type: 'Choice', Choices: [{ ...rule, Next: 'Matched' }], Default: 'Otherwise', ...extra },
      Matched: { Type: 'Pass', Result: 'matched', End: true },
      Otherwise: { Type: 'Pass', Result: 'default', End: true },
    },
  };
}
