/**
 * The execution's relatives: the parent whose invoke state started it (`parentId` on the
 * summary), and the children its invoke states started (GET /v1/executions?parentId=…), each a
 * link to its own page with its status.
 */
import { apiGet, enc } from '../api.js';
import { clear, h } from '../dom.js';
import type { ApiExecution, ExecutionListPage } from '../types.js';
import { statusBadge } from './badge.js';

/** Children listed at most; a workflow with more links the rest from the list page's filter. */
const CHILDREN_LIMIT = 100;

const link = (id: string) => h('a', { href: `/executions/${enc(id)}`, text: id });

export class FamilyView {
  private key = '';

  constructor(
    private readonly container: HTMLElement,
    private readonly id: string,
  ) {}

  /** Reads the children again and redraws when anything changed. */
  async refresh(x: ApiExecution): Promise<void> {
    const page = await apiGet<ExecutionListPage>(`/v1/executions?parentId=${enc(this.id)}&limit=${CHILDREN_LIMIT}`);
    const children = Array.isArray(page?.items) ? page.items : [];
    const key = JSON.stringify([x.parentId ?? null, children.map((c) => [c.id, c.workflow, c.status])]);
    if (key === this.key) return;
    this.key = key;
    clear(this.container);
    this.container.classList.toggle('hidden', !x.parentId && children.length === 0);
    if (x.parentId) this.container.appendChild(h('p', { id: 'exec-parent' }, ['Started by ', link(x.parentId)]));
    if (children.length === 0) return;
    this.container.appendChild(h('h3', { text: 'Child executions' }));
    const list = h('ul', { id: 'exec-children-list' });
    for (const c of children) {
      list.appendChild(h('li', { 'data-child': c.id }, [link(c.id), ' ', h('span', { class: 'muted', text: c.workflow }), ' ', statusBadge(c.status)]));
    }
    this.container.appendChild(list);
  }
}
