import { h, type Props } from '../dom.js';

/** The coloured badge of an execution status (RUNNING, SUCCEEDED, …); its class is the status's letters only. */
export function statusBadge(status: string, props: Props = {}): HTMLElement {
  return h('span', { ...props, class: `badge s-${status.replace(/[^A-Z]/g, '')}`, text: status });
}
