// @ts-check
// `/desk/articles/{id}/history`: every event of the article, oldest first — who, when, why, what — each
// revision openable, and any two comparable.

import { enc, get, getAll } from './api.js';
import { h, replace, srOnly } from './dom.js';
import { describeEvent, eventLabel, time } from './format.js';

/** More than this many events are shown a page at a time by the API anyway; the desk stops here. */
const MAX_EVENTS = 5000;

/**
 * @param {HTMLElement} main
 * @param {import('./session.js').Identity} _who
 * @param {string} id
 */
export async function renderHistory(main, _who, id) {
  const [article, history] = await Promise.all([get(`/articles/${enc(id)}`), getAll(`/articles/${enc(id)}/history`, MAX_EVENTS)]);
  document.title = `History: ${article.headline} · Copydesk desk`;
  const base = `/desk/articles/${enc(id)}`;
  const entries = history.items;
  const last = entries.length ? entries[entries.length - 1].revision : 0;
  const known = { quotes: new Map(), claims: new Map() };

  const rows = entries.map((/** @type {any} */ entry) => {
    const what = describeEvent(entry, known);
    const r = entry.revision;
    return h(
      'li',
      { class: `event event-${entry.type}`, 'data-revision': r },
      h(
        'div',
        { class: 'pick' },
        h('input', { type: 'radio', name: 'from', value: r, id: `from-${r}`, checked: r === 0 }),
        h('label', { for: `from-${r}` }, srOnly(`Compare from revision ${r}`), h('span', { 'aria-hidden': 'true', text: 'from' })),
        h('input', { type: 'radio', name: 'to', value: r, id: `to-${r}`, checked: r === last }),
        h('label', { for: `to-${r}` }, srOnly(`Compare to revision ${r}`), h('span', { 'aria-hidden': 'true', text: 'to' })),
      ),
      h(
        'div',
        { class: 'what' },
        h('p', { class: 'headline-row' }, h('a', { href: `${base}/revisions/${r}`, class: 'revision', text: `Revision ${r}` }), ' ', h('strong', { text: eventLabel(entry.type) })),
        what ? h('p', { class: 'summary', text: what }) : null,
        h('p', { class: 'muted' }, `by ${entry.actor?.name || entry.actor?.id || 'unknown'}, `, time(entry.occurredAt)),
        entry.reason && !what.includes(entry.reason) ? h('p', { class: 'reason', text: `Why: ${entry.reason}` }) : null,
      ),
    );
  });

  const form = h(
    'form',
    { class: 'history', method: 'get', action: `${base}/diff` },
    h('p', { class: 'hint', text: 'Choose a “from” and a “to” revision and compare them, or open any revision to see the article as it stood.' }),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Compare the chosen revisions' })),
    h('ol', { class: 'timeline', 'aria-label': 'Events, oldest first' }, rows),
    entries.length > 8 ? h('div', { class: 'buttons' }, h('button', { type: 'submit', text: 'Compare the chosen revisions' })) : null,
  );

  replace(
    main,
    h('h1', null, 'History: ', h('span', { 'data-testid': 'headline', text: article.headline })),
    h('p', { class: 'links' }, h('a', { href: base, text: 'The article now' }), h('a', { href: '/desk', text: 'All articles' })),
    h('p', { text: `${entries.length} event${entries.length === 1 ? '' : 's'}, revisions 0 to ${last}.` }),
    history.truncated ? h('p', { class: 'message note', text: `Only the first ${entries.length} events are shown.` }) : null,
    form,
  );
}
