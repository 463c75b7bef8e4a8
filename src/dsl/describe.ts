import { callbackHandler, workerBinding } from '../handlers/remote-steps.js';
import type { StateDef } from './definition.js';

/** One state as the API and the history page see it: names and edges, no functions. */
export interface StateDescription {
  name: string;
  type: StateDef['type'];
  next?: string;
  end?: boolean;
  choices?: Array<{ next: string; label?: string }>;
  default?: string;
  catch?: Array<{ errors: string[]; next: string }>;
  retry?: Array<{ errors: string[]; maxAttempts: number; intervalMs: number; backoffRate: number }>;
  compensation?: string;
  timeoutMs?: number;
  branches?: StateDescription[][];
  itemsPath?: string;
  concurrency?: number;
  error?: string;
  /** A waitForEvent state's event name. */
  event?: string;
  /** A fail state that holds the failure for redrive (no compensation). */
  held?: boolean;
  /** An invoke state's child workflow. */
  invoke?: string;
  /** A task finished outside the engine: by a polling worker (with its queue) or by a callback. */
  awaits?: { kind: 'worker'; queue: string } | { kind: 'callback' };
}

export function describeStates(states: StateDef[]): StateDescription[] {
  return states.map((s, i) => {
    const d: StateDescription = { name: s.name, type: s.type };
    const following = states[i + 1]?.name;
    if (s.type === 'choice') {
      d.choices = s.choices.map((c) => (c.label ? { next: c.next, label: c.label } : { next: c.next }));
      d.default = s.default;
      return d;
    }
    if (s.type === 'succeed') return d;
    if (s.type === 'fail') return { ...d, error: s.error, ...(s.compensate === false ? { held: true } : {}) };
    const next = s.next ?? (s.end ? undefined : following);
    if (next) d.next = next;
    else d.end = true;
    if (s.type === 'waitForEvent') {
      d.event = s.event;
      if (typeof s.timeoutMs === 'number') d.timeoutMs = s.timeoutMs;
      if (s.retry.length > 0) d.retry = s.retry.map((r) => ({ errors: r.errors, maxAttempts: r.maxAttempts, intervalMs: r.intervalMs, backoffRate: r.backoffRate }));
    }
    if (s.type === 'task' || s.type === 'map' || s.type === 'parallel' || s.type === 'waitForEvent') {
      if (s.catch.length > 0) d.catch = s.catch.map((c) => ({ errors: c.errors, next: c.next }));
    }
    if (s.type === 'task' || s.type === 'map') {
      if (s.retry.length > 0) d.retry = s.retry.map((r) => ({ errors: r.errors, maxAttempts: r.maxAttempts, intervalMs: r.intervalMs, backoffRate: r.backoffRate }));
      if (s.compensation) d.compensation = s.compensation.name;
      d.timeoutMs = s.timeoutMs;
    }
    if (s.type === 'task') {
      const queue = workerBinding(s.handler)?.queue;
      if (queue !== undefined) d.awaits = { kind: 'worker', queue };
      else if (callbackHandler(s.handler)) d.awaits = { kind: 'callback' };
    }
    if (s.type === 'task' && s.invoke) {
      d.invoke = s.invoke.workflow;
      if (s.invoke.timeoutMs !== undefined) d.timeoutMs = s.invoke.timeoutMs;
      else delete d.timeoutMs;
    }
    if (s.type === 'map') {
      d.itemsPath = s.itemsPath;
      d.concurrency = s.concurrency;
    }
    if (s.type === 'parallel') d.branches = s.branches.map(describeStates);
    return d;
  });
}

/** A Mermaid flowchart of the workflow (`stepwise graph <workflow>` prints it). */
export function toMermaid(states: StateDef[]): string {
  const lines = ['flowchart TD', `  start((start)) --> ${states[0].name}`];
  const emit = (sequence: StateDef[], end: string) => {
    sequence.forEach((s, i) => {
      const following = sequence[i + 1]?.name;
      const shape = s.type === 'choice' ? `{${s.name}}` : s.type === 'succeed' || s.type === 'fail' ? `([${s.name}])`
        : s.type === 'waitForEvent' ? `[/"${escapeLabel(`${s.name}: event ${s.event}`)}"/]` : `[${s.name}]`;
      lines.push(`  ${s.name}${shape}`);
      if (s.type === 'choice') {
        for (const c of s.choices) lines.push(`  ${s.name} -->|"${escapeLabel(c.label ?? 'when')}"| ${c.next}`);
        lines.push(`  ${s.name} -->|default| ${s.default}`);
        return;
      }
      if (s.type === 'succeed') { lines.push(`  ${s.name} --> ${end}`); return; }
      if (s.type === 'fail') { lines.push(`  ${s.name} --> failed((failed))`); return; }
      if ('catch' in s) for (const c of s.catch) lines.push(`  ${s.name} -.->|"${escapeLabel(c.errors.join(', '))}"| ${c.next}`);
      const next = s.next ?? (s.end ? undefined : following);
      if (s.type === 'parallel') {
        const join = `${s.name}_join`;
        lines.push(`  ${join}(( ))`);
        s.branches.forEach((b) => {
          lines.push(`  ${s.name} --> ${b[0].name}`);
          emit(b, join);
        });
        lines.push(`  ${join} --> ${next ?? end}`);
        return;
      }
      lines.push(`  ${s.name} --> ${next ?? end}`);
    });
  };
  emit(states, 'succeeded((succeeded))');
  return lines.join('\n');
}

/** Mermaid labels are quoted; a quote inside one is written as an entity. */
function escapeLabel(text: string): string {
  return text.replace(/"/g, '#quot;');
}
