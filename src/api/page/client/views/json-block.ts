/** A JSON value as a preview with a "show all" expander when it is long (inputs can be megabytes). */
import { h } from '../dom.js';
import { fmtSize, safeStringify } from '../format.js';

export const PREVIEW_CHARS = 360;
const PREVIEW_LINES = 10;
/** Even expanded, a value is cut here: a browser tab should not hold a 50 MB text node. */
const MAX_EXPANDED_CHARS = 200_000;

export function jsonBlock(value: unknown): HTMLElement {
  const full = safeStringify(value, true);
  const pre = h('pre');
  const wrap = h('div', { class: 'json' }, [pre]);
  const lines = full.split('\n');
  if (full.length <= PREVIEW_CHARS && lines.length <= PREVIEW_LINES) {
    pre.textContent = full;
    return wrap;
  }
  let preview = lines.slice(0, PREVIEW_LINES).join('\n');
  if (preview.length > PREVIEW_CHARS) preview = preview.slice(0, PREVIEW_CHARS);
  preview += ' …';
  // Keep only the value: it is stringified again when expanded.
  const total = full.length;
  const showAll = `show all (${fmtSize(total)})`;
  pre.textContent = preview;
  const button = h('button', { type: 'button', class: 'expander', text: showAll });
  let open = false;
  button.addEventListener('click', () => {
    open = !open;
    if (open) {
      let text = safeStringify(value, true);
      if (text.length > MAX_EXPANDED_CHARS) {
        text = `${text.slice(0, MAX_EXPANDED_CHARS)}\n… ${fmtSize(text.length - MAX_EXPANDED_CHARS)} more not shown`;
      }
      pre.textContent = text;
      button.textContent = 'collapse';
    } else {
      pre.textContent = preview;
      button.textContent = showAll;
    }
  });
  wrap.appendChild(button);
  return wrap;
}
