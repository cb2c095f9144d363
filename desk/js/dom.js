// @ts-check
// Every element the desk shows is built here, with text nodes for every piece of data: article text is
// untrusted, and nothing the API answers ever becomes markup. (The page's Content-Security-Policy also
// enforces Trusted Types, so an `innerHTML` with a string would throw.)

/** @typedef {string | number | Node | null | undefined | false | ReadonlyArray<any>} Child */

/**
 * Creates an element. `attrs`: `class`, `text`, `on` ({event: handler}), booleans (set when true),
 * and any other attribute as a string. `href` is kept only when it is safe to follow (see {@link safeHref}).
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'on') for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    else if (name === 'text') el.textContent = String(value);
    else if (name === 'href') {
      const href = safeHref(String(value));
      if (href) el.setAttribute('href', href);
    } else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Node} parent
 * @param {Child[]} children
 */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces an element's content.
 * @param {Element} el
 * @param {...Child} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * A link target the desk may follow: its own paths, or an http(s) URL (evidence links). Anything else
 * (`javascript:`, `data:`, …) is dropped.
 * @param {string} value
 * @returns {string | null}
 */
export function safeHref(value) {
  if (value.startsWith('/') && !value.startsWith('//')) return value;
  if (value.startsWith('#')) return value;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Text only screen readers hear.
 * @param {string} text
 */
export const srOnly = (text) => h('span', { class: 'sr-only', text });

/**
 * A labelled form control: the label's `for` names the control's id.
 * @param {string} label
 * @param {HTMLElement} control
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 10)}`;
  control.id = id;
  const hintEl = hint ? h('span', { class: 'hint', id: `${id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), hintEl, control);
}

/**
 * Moves the keyboard focus to an element (headings and messages get tabindex -1 for it).
 * @param {HTMLElement | null} el
 */
export function focus(el) {
  if (!el) return;
  if (!el.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) el.setAttribute('tabindex', '-1');
  el.focus();
}
