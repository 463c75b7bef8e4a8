/**
 * Buttons that act on the execution shown (cancel, send an event, redrive, …), each behind an
 * inline confirmation: the first click asks, a second click on "Yes" acts. To add one, append an
 * `ExecutionAction` to EXECUTION_ACTIONS; the bar shows it whenever `available` says so, and the
 * page polls at once after it ran. None is registered yet: the page only reads.
 */
import { messageOf } from '../api.js';
import { clear, h } from '../dom.js';
import type { ApiExecution } from '../types.js';

export interface ExecutionAction {
  /** Names the action in data-action, e.g. 'cancel'. */
  id: string;
  /** The button's text, e.g. 'Cancel execution'. */
  label: string;
  /** The question asked before acting, e.g. 'Cancel order-1? Completed steps are compensated.' */
  question: (execution: ApiExecution) => string;
  /** Whether it applies to the execution as it is now (e.g. only while RUNNING). */
  available: (execution: ApiExecution) => boolean;
  /** Does it, typically with one apiRequest('POST', …); a rejection's message is shown next to the button. */
  run: (execution: ApiExecution) => Promise<unknown>;
}

export const EXECUTION_ACTIONS: readonly ExecutionAction[] = [];

/**
 * One action's button and its confirmation: idle → asking ("question [Yes] [No]") → working →
 * idle again (or an error line). `onDone` runs after a successful action.
 */
export function confirmButton(action: ExecutionAction, execution: () => ApiExecution, onDone: () => void): HTMLElement {
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
    const yes = h('button', { type: 'button', class: 'action-confirm', text: 'Yes' });
    const no = h('button', { type: 'button', class: 'action-dismiss', text: 'No' });
    no.addEventListener('click', () => idle());
    yes.addEventListener('click', () => {
      yes.disabled = true;
      no.disabled = true;
      action.run(execution()).then(
        () => {
          idle();
          onDone();
        },
        (e: unknown) => idle(messageOf(e)),
      );
    });
    wrap.append(h('span', { class: 'action-question', text: action.question(execution()) }), yes, no);
    yes.focus();
  };
  idle();
  return wrap;
}

/** The bar of actions above the graph; rebuilt only when the set of available actions changes. */
export class ActionBar {
  private shown = '';
  private current: ApiExecution | null = null;

  constructor(
    private readonly container: HTMLElement,
    private readonly actions: readonly ExecutionAction[],
    private readonly onDone: () => void,
  ) {}

  render(execution: ApiExecution): void {
    this.current = execution;
    const available = this.actions.filter((a) => a.available(execution));
    const key = available.map((a) => a.id).join(' ');
    if (key === this.shown) return;
    this.shown = key;
    clear(this.container);
    for (const action of available) this.container.appendChild(confirmButton(action, () => this.current ?? execution, this.onDone));
  }
}
