// @ts-check
// `/desk`: the articles, newest first, by status, with a search over headline and body.

import { enc, get } from './api.js';
import { field, h, replace } from './dom.js';
import { STATUSES, STATUS_LABELS, statusBadge, time } from './format.js';

/**
 * @param {HTMLElement} main
 * @param {import('./session.js').Identity} _who
 * @param {URLSearchParams} params
 */
export async function renderList(main, _who, params) {
  const status = STATUSES.includes(params.get('status') ?? '') ? /** @type {string} */ (params.get('status')) : '';
  const q = (params.get('q') ?? '').slice(0, 200);
  document.title = 'Articles · Copydesk desk';

  const search = h('input', { type: 'search', name: 'q', id: 'q', value: q, maxlength: '200' });
  const select = h('select', { name: 'status', id: 'status' }, h('option', { value: '', text: 'Any status' }), STATUSES.map((s) => h('option', { value: s, text: STATUS_LABELS[s], selected: s === status })));
  const form = h('form', { class: 'filters', method: 'get', action: '/desk', role: 'search' }, field('Search headline and body', search), field('Status', select), h('button', { type: 'submit', text: 'Search' }));

  const query = new URLSearchParams();
  if (status) query.set('status', status);
  if (q) query.set('q', q);
  const rows = h('tbody');
  const table = h(
    'table',
    { class: 'articles' },
    h('caption', { class: 'sr-only', text: 'Articles, newest first' }),
    h('thead', null, h('tr', null, ['Headline', 'Status', 'Topics', 'Revision', 'Updated'].map((c) => h('th', { scope: 'col', text: c })))),
    rows,
  );
  const more = h('div', { class: 'more' });
  const count = h('p', { class: 'count', 'aria-live': 'polite' });
  let shown = 0;

  /** @param {string | null} cursor */
  async function load(cursor) {
    const page = await get(`/articles?${query.toString() ? `${query}&` : ''}limit=50${cursor ? `&cursor=${enc(cursor)}` : ''}`);
    for (const article of page.items) {
      rows.append(
        h(
          'tr',
          null,
          h('td', { 'data-label': 'Headline' }, h('a', { href: `/desk/articles/${enc(article.id)}`, class: 'headline', text: article.headline })),
          h('td', { 'data-label': 'Status' }, statusBadge(article.status)),
          h('td', { 'data-label': 'Topics', text: (article.topics ?? []).map((t) => t.label ?? t).join(', ') || '—' }),
          h('td', { 'data-label': 'Revision', text: article.revision }),
          h('td', { 'data-label': 'Updated' }, time(article.updatedAt)),
        ),
      );
    }
    shown += page.items.length;
    count.textContent = shown === 0 ? 'No article matches.' : `${shown} article${shown === 1 ? '' : 's'} shown${page.nextCursor ? ', more below' : ''}.`;
    replace(
      more,
      page.nextCursor
        ? h('button', {
            type: 'button',
            text: 'Show more articles',
            on: {
              click: async (/** @type {Event} */ e) => {
                /** @type {HTMLButtonElement} */ (e.currentTarget).disabled = true;
                await load(page.nextCursor);
              },
            },
          })
        : null,
    );
  }

  replace(main, h('h1', { text: status ? `${STATUS_LABELS[status]} articles` : 'Articles' }), form, count, table, more);
  await load(null);
}
