import type { EngineObserver, StepAttemptEnd, StepAttemptInfo, StepAttemptScope } from '../core/observer.js';

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
        const scopes: StepAttemptScope[] = [];
        for (const o of started) {
          const scope = o.stepAttemptStarted!(info);
          if (scope) scopes.push(scope);
        }
        return scopes.length <= 1 ? scopes[0] : new CombinedScope(scopes);
      };
    }
  }
  return combined;
}

/** The scopes of one attempt as one: their context fields together (a later observer's field wins), each told the end. */
class CombinedScope implements StepAttemptScope {
  readonly context: Record<string, unknown> | undefined;
  constructor(private readonly scopes: StepAttemptScope[]) {
    let context: Record<string, unknown> | undefined;
    for (const s of scopes) {
      if (!s.context) continue;
      context ??= {};
      for (const k in s.context) context[k] = s.context[k];
    }
    this.context = context;
  }

  end(result: StepAttemptEnd): void {
    for (const s of this.scopes) s.end(result);
  }
}
