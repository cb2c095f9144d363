// @ts-check
// The desk's entry: the header, sign-in, and the view the address names. Every view is its own page
// load (plain links, bookmarkable, the back button works); actions re-render the view in place.

import { ProblemError, tryToken } from './api.js';
import { focus, h, replace } from './dom.js';
import { ROLE_NAMES, currentIdentity, forgetToken, keepToken, readToken } from './session.js';

/** @typedef {import('./session.js').Identity} Identity */

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const top = /** @type {HTMLElement} */ (document.getElementById('top'));

/**
 * The view for a path, or null when the desk has none. Each view's module is loaded when it is shown.
 * @param {string} path
 * @returns {((main: HTMLElement, who: Identity) => Promise<void>) | null}
 */
function route(path) {
  const id = '([0-9a-fA-F-]{36})';
  const query = new URLSearchParams(location.search);
  let m;
  if (path === '/desk' || path === '/desk/') return async (el, who) => (await import('./list-view.js')).renderList(el, who, query);
  if (path === '/desk/admin') return async (el, who) => (await import('./admin-view.js')).renderAdmin(el, who);
  if ((m = new RegExp(`^/desk/articles/${id}$`).exec(path))) return async (el, who) => (await import('./article-view.js')).renderArticle(el, who, m[1]);
  if ((m = new RegExp(`^/desk/articles/${id}/history$`).exec(path))) return async (el, who) => (await import('./history-view.js')).renderHistory(el, who, m[1]);
  if ((m = new RegExp(`^/desk/articles/${id}/revisions/(\\d+)$`).exec(path))) return async (el, who) => (await import('./article-view.js')).renderRevision(el, who, m[1], Number(m[2]));
  if ((m = new RegExp(`^/desk/articles/${id}/diff$`).exec(path))) return async (el, who) => (await import('./diff-view.js')).renderDiff(el, who, m[1], query);
  return null;
}

/** @param {Identity | null} who */
function renderHeader(who) {
  const nav = h(
    'nav',
    { 'aria-label': 'Desk' },
    h('a', { href: '/desk', class: 'brand' }, 'Copydesk ', h('span', { text: 'desk' })),
    who ? h('a', { href: '/desk', text: 'Articles' }) : null,
    who?.roles.includes('admin') ? h('a', { href: '/desk/admin', text: 'Admin' }) : null,
  );
  const user = who
    ? h(
        'div',
        { class: 'who' },
        h('span', { 'data-testid': 'signed-in-as' }, 'Signed in as ', h('strong', { text: who.name }), who.roles.length ? ` (${who.roles.map((r) => ROLE_NAMES[r] ?? r).join(', ')})` : ' (no role)'),
        h('button', { type: 'button', class: 'quiet', text: 'Sign out', on: { click: signOut } }),
      )
    : null;
  replace(top, nav, user);
}

function signOut() {
  forgetToken();
  sessionStorage.clear();
  location.reload();
}

/** @param {string} [why] */
function renderSignIn(why) {
  renderHeader(null);
  const token = h('textarea', { id: 'token', name: 'token', rows: '4', required: true, autocomplete: 'off', spellcheck: 'false' });
  const message = h('div', { 'aria-live': 'assertive' });
  const form = h(
    'form',
    { class: 'card signin', on: { submit: signIn } },
    h('p', { text: 'Paste the token you were given (for example from “copydesk token”). It is kept in this browser tab only, until you sign out or close the tab.' }),
    h('div', { class: 'field' }, h('label', { for: 'token', text: 'Token' }), token),
    h('button', { type: 'submit', text: 'Sign in' }),
    message,
  );
  replace(main, h('h1', { text: 'Sign in to the desk' }), why ? h('div', { class: 'message refusal', role: 'alert' }, h('p', { text: why })) : null, form);
  focus(token);

  /** @param {Event} event */
  async function signIn(event) {
    event.preventDefault();
    const value = /** @type {HTMLTextAreaElement} */ (token).value.trim();
    try {
      readToken(value);
      await tryToken(value);
    } catch (error) {
      const text = error instanceof ProblemError ? `The server refused this token: ${error.problem.detail ?? error.message}` : error instanceof Error ? error.message : String(error);
      replace(message, h('div', { class: 'message refusal', role: 'alert' }, h('p', { text })));
      focus(token);
      return;
    }
    keepToken(value);
    void start();
  }
}

async function start() {
  const who = currentIdentity();
  if (!who) return renderSignIn();
  renderHeader(who);
  const view = route(location.pathname);
  if (!view) {
    replace(main, h('h1', { text: 'No such page' }), h('p', null, 'The desk has no page here. ', h('a', { href: '/desk', text: 'Go to the articles.' })));
    return;
  }
  try {
    await view(main, who);
  } catch (error) {
    if (error instanceof ProblemError && error.status === 401) return renderSignIn(`Your token was refused: ${error.problem.detail ?? ''} Sign in again.`);
    const text = error instanceof ProblemError ? (error.problem.detail ?? error.message) : error instanceof Error ? error.message : String(error);
    const title = error instanceof ProblemError && error.status === 404 ? 'Not found' : 'This page could not be shown';
    replace(main, h('h1', { text: title }), h('div', { class: 'message refusal', role: 'alert' }, h('p', { text })), h('p', null, h('a', { href: '/desk', text: 'Back to the articles' })));
  }
}

void start();
