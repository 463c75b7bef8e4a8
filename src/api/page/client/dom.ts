/**
 * Building DOM without parsing HTML: data reaches the page only as text nodes, textContent, and
 * attributes whose names the code chooses; markup is never parsed. (The CSP forbids inline style.)
 */

/** Attribute values; `text` sets textContent. null, undefined and false leave the attribute out. */
export type Props = Record<string, string | number | boolean | null | undefined>;
export type Child = Node | string | null | undefined | false;

const SVG_NS = 'http://www.w3.org/2000/svg';

function setProps(e: Element, props: Props | undefined): void {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') e.textContent = String(value);
    else e.setAttribute(key, String(value));
  }
}

function addKids(e: Element, kids: readonly Child[] | undefined): void {
  for (const c of kids ?? []) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** An HTML element. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, kids?: readonly Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  setProps(e, props);
  addKids(e, kids);
  return e;
}

/** An SVG element. */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, props?: Props, kids?: readonly Child[]): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  setProps(e, props);
  addKids(e, kids);
  return e;
}

export function clear(e: Element): void {
  while (e.firstChild) e.removeChild(e.firstChild);
}

/** The element with this id; the page's HTML (src/api/page/html.ts) must have it. */
export function byId(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e;
}
