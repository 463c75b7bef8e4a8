/** The banner under the top bar (errors, the token form) and the live indicator in the top bar. */
import { currentToken, useToken } from '../api.js';
import { byId, clear, h } from '../dom.js';

/** Shows a message of `kind` ('error', 'warn'), or hides the banner when kind is null. */
export function banner(kind: 'error' | 'warn' | null, text = '', extra?: Node): void {
  const b = document.getElementById('banner');
  if (!b) return;
  clear(b);
  if (!kind) {
    b.className = 'banner hidden';
    return;
  }
  b.className = `banner ${kind}`;
  b.appendChild(document.createTextNode(text));
  if (extra) b.appendChild(extra);
}

/** The indicator at the top right: 'on' (polling), 'error', or '' (final). */
export function live(state: 'on' | 'error' | '', text: string): void {
  const l = byId('live');
  l.className = `live${state ? ` ${state}` : ''}`;
  l.textContent = text;
}

/** Asks for the API token after a 401: a password field that keeps it for this tab and reloads. */
export function askForToken(): void {
  const message = currentToken() ? 'The server refused the API token this tab has.' : 'This server needs an API token.';
  const input = h('input', { type: 'password', autocomplete: 'off', placeholder: 'API token', 'aria-label': 'API token' });
  const form = h('form', { class: 'token-form' }, [input, h('button', { type: 'submit', text: 'Use token' })]);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    useToken(input.value.trim());
    location.reload();
  });
  banner('error', `${message} Enter the API token below, or open the page once with ?token=…`, form);
  live('error', 'unauthorized');
}
