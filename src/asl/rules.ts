/**
 * ASL Retry and Catch lists as the DSL's retry policies and catch rules. The DSL matches a code
 * exactly or by `'*'`; ASL's wildcards are narrower (States.TaskFailed does not match
 * States.Timeout; States.ALL does not match States.Runtime or States.DataLimitExceeded), and the
 * engine spells some errors its own way (Stepwise.Timeout). Because both pick the first rule that
 * matches, each list starts with explicit rules for those codes, sending each where AWS would:
 * the first ASL rule that matches it, or nowhere (no retry; re-raised by a Fail state).
 */
import type { RetryPolicy } from '../core/retry-policy.js';
import { aslErrorName, errorEqualsMatches, SPECIAL_CODES, States } from './asl-errors.js';
import type { AslCatcher, AslRetrier } from './types.js';

const ALIASES: Record<string, string[]> = {
  [States.Timeout]: ['Stepwise.Timeout'], [States.HeartbeatTimeout]: ['Stepwise.HeartbeatTimeout'], [States.DataLimitExceeded]: ['Stepwise.OutputTooLarge'],
};
/** No delay bound unless MaxDelaySeconds gives one. */
const UNBOUNDED_MS = 99_999_999_000;

function isWildcard(name: string): boolean {
  return name === States.ALL || name === States.TaskFailed;
}

/** The DSL codes an ErrorEquals list names; ASL wildcards become '*'. */
export function dslErrors(errorEquals: string[]): string[] {
  return [...new Set(errorEquals.flatMap((e) => (isWildcard(e) ? ['*'] : [e, ...(ALIASES[e] ?? [])])))];
}

function policyOf(rule: AslRetrier, errors: string[]): RetryPolicy {
  return {
    errors,
    intervalMs: (rule.IntervalSeconds ?? 1) * 1000,
    backoffRate: rule.BackoffRate ?? 2,
    // ASL counts retries; the DSL counts attempts, the first included.
    maxAttempts: (rule.MaxAttempts ?? 3) + 1,
    maxDelayMs: rule.MaxDelaySeconds !== undefined ? rule.MaxDelaySeconds * 1000 : UNBOUNDED_MS,
    jitter: rule.JitterStrategy === 'FULL' ? 'full' : 'none',
  };
}

export function retryPolicies(retriers: AslRetrier[] | undefined): RetryPolicy[] {
  const list = retriers ?? [];
  const wildcard = list.some((r) => r.ErrorEquals.some(isWildcard));
  const out: RetryPolicy[] = [];
  for (const code of SPECIAL_CODES) {
    const rule = list.find((r) => errorEqualsMatches(r.ErrorEquals, aslErrorName(code)));
    if (rule) out.push(policyOf(rule, [code]));
    else if (wildcard) out.push({ errors: [code], maxAttempts: 1 });
  }
  for (const rule of list) out.push(policyOf(rule, dslErrors(rule.ErrorEquals)));
  return out;
}

/** Where a caught error goes: the index of the ASL catcher, or a re-raise of the ASL error name. */
export type CatchTarget = { catcher: number } | { rethrow: string };

/** The DSL catch rules, each with where it leads (the translation turns targets into states). */
export function catchPlan(catchers: AslCatcher[] | undefined): Array<{ errors: string[]; target: CatchTarget }> {
  const list = catchers ?? [];
  const wildcard = list.some((c) => c.ErrorEquals.some(isWildcard));
  const out: Array<{ errors: string[]; target: CatchTarget }> = [];
  for (const code of SPECIAL_CODES) {
    const i = list.findIndex((c) => errorEqualsMatches(c.ErrorEquals, aslErrorName(code)));
    if (i >= 0) out.push({ errors: [code], target: { catcher: i } });
    else if (wildcard) out.push({ errors: [code], target: { rethrow: aslErrorName(code) } });
  }
  list.forEach((c, i) => out.push({ errors: dslErrors(c.ErrorEquals), target: { catcher: i } }));
  return out;
}
