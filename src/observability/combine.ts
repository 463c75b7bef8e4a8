import type { EngineObserver, StepAttemptInfo, StepAttemptScope } from '../core/observer.js';

/**
 * One observer that tells each of several (metrics, logs, traces, budgets) in turn. A callback
 * none of them has is left undefined, so the engine skips it at no cost.
 */
export function combineObservers(...given: (EngineObserver | undefined)[]): EngineObserver {
  const all = given.filter((o): o is EngineObserver => o !== undefined);
  const having = <K extends keyof EngineObserver>(k: K) => all.filter((o) => o[k] !== undefined);
  const commitDone = having('commitDone');
  const storeError = having('storeError');
  const committed = having('committed');
  const started = having('stepAttemptStarted');
  const tracing = having('executionTrace');
  const combined: EngineObserver = {};
  if (commitDone.length > 0) combined.commitDone = (info) => { for (const o of commitDone) o.commitDone!(info); };
  if (storeError.length > 0) combined.storeError = (code) => { for (const o of storeError) o.storeError!(code); };
  if (committed.length > 0) combined.committed = (info) => { for (const o of committed) o.committed!(info); };
  // One trace per execution: the first observer that makes one wins.
  if (tracing.length > 0) combined.executionTrace = (info) => { for (const o of tracing) { const t = o.executionTrace!(info); if (t) return t; } return undefined; };
  if (started.length > 0) {
    if (started.length === 1) {
      combined.stepAttemptStarted = (info) => started[0]!.stepAttemptStarted!(info);
    } else {
      combined.stepAttemptStarted = (info: StepAttemptInfo): StepAttemptScope | undefined => {
        let first: StepAttemptScope | undefined;
        let rest: StepAttemptScope[] | undefined;
        for (const o of started) {
          const scope = o.stepAttemptStarted!(info);
          if (!scope) continue;
          if (!first) first = scope;
          else (rest ??= []).push(scope);
        }
        if (!first || !rest) return first;
        const scopes = [first, ...rest];
        let context: Record<string, unknown> | undefined;
        for (const s of scopes) if (s.context) context = context ? Object.assign(context, s.context) : Object.assign({}, s.context);
        return { context, end: (result) => { for (const s of scopes) s.end(result); } };
      };
    }
  }
  return combined;
}
