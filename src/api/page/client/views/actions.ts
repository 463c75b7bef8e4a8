/**
 * Buttons that act on the execution shown (cancel, send an event, redrive, …), each behind an
 * inline confirmation: the first click asks (with the action's fields, if any), a second click on
 * "Yes" acts. The bar shows an action whenever `available` says so, and the page polls at once
 * after it ran. The page's own actions are in views/execution-actions.ts.
 */
import { ApiError, messageOf } from '../api.js';
import { clear, h } from '../dom.js';
import type { ApiExecution } from '../types.js';

/** What the page knows besides the execution: the events its running waitForEvent states wait for. */
export interface ActionContext {
  waitingFor: readonly string[];
}

/** A text input shown with the question, e.g. an event's name or its JSON payload. */
export interface ActionField {
  /** Names the input in data-field, and its value in `run`'s `values`. */
  id: string;
  label: string;
  /** A textarea rather than a one-line input. */
  multiline?: boolean;
  /** The value the field starts with each time the question opens. */
  initial?: (execution: ApiExecution, context: ActionContext) => string;
}

export interface ExecutionAction {
  /** Names the action in data-action, e.g. 'cancel'. */
  id: string;
  /** The button's text, e.g. 'Cancel execution'. */
  label: string;
  /** The question asked before acting, e.g. 'Cancel order-1? Completed steps are compensated.' */
  question: (execution: ApiExecution) => string;
  /** Whether it applies to the execution as it is now (e.g. only while RUNNING). */
  available: (execution: ApiExecution, context: ActionContext) => boolean;
  fields?: readonly ActionField[];
  /**
   * Does it, typically with one apiRequest('POST', …); a rejection's (or a throw's) message is
   * shown next to the button. `values` holds the fields' texts by id.
   */
  run: (execution: ApiExecution, values: Record<string, string>) => Promise<unknown>;
}

const NO_CONTEXT: ActionContext = { waitingFor: [] };

/**
 * One action's button and its confirmation: idle → asking ("question [fields] [Yes] [No]") →
 * working → idle again (or an error line). `onDone` runs after a successful action.
 */
export function confirmButton(
  action: ExecutionAction,
  execution: () => ApiExecution,
  onDone: () => void,
  context: () => ActionContext = () => NO_CONTEXT,
): HTMLElement {
  const wrap = h('span', { class: 'action', 'data-action': action.id });
  const idle = (error?: string) => {
    clear(wrap);
    const button = h('button', { type: 'button', class: 'action-button', text: action.label });
    button.addEventListener('click', asking);
    wrap.appendChild(button);
    if (error) wrap.appendChild(h('span', { class: 'action-error error-text', text: error }));
  };
  const asking = () => {
    clear(wrap);
    const x = execution();
    const inputs = (action.fields ?? []).map((f) => {
      const props = { class: 'action-field', 'data-field': f.id, 'aria-label': f.label, placeholder: f.label, spellcheck: 'false' };
      const input = f.multiline ? h('textarea', { ...props, rows: 3 }) : h('input', { ...props, type: 'text' });
      input.value = f.initial?.(x, context()) ?? '';
      return { id: f.id, label: f.label, input };
    });
    const yes = h('button', { type: 'button', class: 'action-confirm', text: 'Yes' });
    const no = h('button', { type: 'button', class: 'action-dismiss', text: 'No' });
    no.addEventListener('click', () => idle());
    yes.addEventListener('click', () => {
      yes.disabled = true;
      no.disabled = true;
      for (const i of inputs) i.input.disabled = true;
      const values = Object.fromEntries(inputs.map((i) => [i.id, i.input.value]));
      Promise.resolve()
        .then(() => action.run(execution(), values))
        .then(
          () => {
            idle();
            onDone();
          },
          (e: unknown) => idle(e instanceof ApiError && e.code ? `${e.code}: ${e.message}` : messageOf(e)),
        );
    });
    wrap.append(
      h('span', { class: 'action-question', text: action.question(x) }),
      ...inputs.map((i) => h('label', { class: 'action-label' }, [i.label, ' ', i.input])),
      yes,
      no,
    );
    (inputs[0]?.input ?? yes).focus();
  };
  idle();
  return wrap;
}

/** The bar of actions above the graph; rebuilt only when the set of available actions changes. */
export class ActionBar {
  private shown = '';
  private current: ApiExecution | null = null;
  private context: ActionContext = NO_CONTEXT;

  constructor(
    private readonly container: HTMLElement,
    private readonly actions: readonly ExecutionAction[],
    private readonly onDone: () => void,
  ) {}

  render(execution: ApiExecution, context: ActionContext = NO_CONTEXT): void {
    this.current = execution;
    this.context = context;
    const available = this.actions.filter((a) => a.available(execution, context));
    const key = available.map((a) => a.id).join(' ');
    if (key === this.shown) return;
    this.shown = key;
    clear(this.container);
    for (const action of available) {
      this.container.appendChild(confirmButton(action, () => this.current ?? execution, this.onDone, () => this.context));
    }
  }
}
