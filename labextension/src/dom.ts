/**
 * Tiny DOM helpers: the renderer builds plain elements (no React, no chart library), so a saved
 * notebook renders with nothing but this bundle and the JupyterLab theme variables.
 */

export type Child = Node | string | number | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined | ((event: Event) => void);
export type Attrs = Record<string, AttrValue>;

function applyAttrs(el: Element, attrs: Attrs | null | undefined): void {
  if (!attrs) {
    return;
  }
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (typeof value === 'function') {
      el.addEventListener(key.replace(/^on/, '').toLowerCase(), value);
    } else if (key === 'class') {
      el.setAttribute('class', String(value));
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    el.appendChild(
      child instanceof Node ? child : document.createTextNode(String(child))
    );
  }
}

/** An HTML element with attributes (``onclick`` etc. become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

/** A collapsible section (``<details>``), open unless told otherwise. */
export function section(
  title: Child,
  body: Child | Child[],
  options: { open?: boolean; className?: string } = {}
): HTMLDetailsElement {
  const details = h(
    'details',
    { class: `mb-section ${options.className ?? ''}`.trim() },
    h('summary', { class: 'mb-section-title' }, title),
    ...(Array.isArray(body) ? body : [body])
  );
  details.open = options.open ?? true;
  return details;
}
