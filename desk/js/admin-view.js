// @ts-check
// `/desk/admin` (administrators): the projections with their position, lag and status, and a rebuild
// button whose progress is polled live from `GET /admin/projections` until the rebuild is done; and the
// webhook subscriptions with their deliveries (webhooks-panel.js).

import { enc, get, write } from './api.js';
import { focus, h, replace } from './dom.js';
import { time } from './format.js';
import { refusal, success } from './refusals.js';
import { hasRole } from './session.js';
import { webhooksPanel } from './webhooks-panel.js';

/** How often the table refreshes while a rebuild runs (and shortly after one was requested). */
const POLL_MS = 1000;

/** @param {any} p */
function progress(p) {
  const r = p.rebuild;
  if (!r) return p.status === 'rebuilding' ? h('span', { text: 'starting…' }) : h('span', { class: 'muted', text: '—' });
  const total = Number(r.total) || 0;
  const done = Number(r.done) || 0;
  const pct = total ? Math.min(100, Math.floor((done / total) * 100)) : 0;
  return h('span', { class: 'progress' }, h('progress', { max: total || 1, value: Math.min(done, total || 1), 'aria-label': `Rebuild of ${p.name}` }), ` ${done} of ${total} events (${pct}%)`);
}

/** @param {any} error */
function errorCell(error) {
  if (!error) return h('span', { class: 'muted', text: '—' });
  return h('span', { class: 'error-text' }, `${error.phase ?? 'apply'} failed at position ${error.position} (${error.eventType ?? 'event'} in ${error.streamId ?? '?'}): ${error.message ?? ''} `, time(error.at));
}

/**
 * @param {HTMLElement} main
 * @param {import('./session.js').Identity} who
 */
export async function renderAdmin(main, who) {
  document.title = 'Admin · Copydesk desk';
  if (!hasRole(who, 'admin')) {
    replace(main, h('h1', { text: 'Admin' }), h('div', { class: 'message refusal', role: 'alert' }, h('p', { text: 'This page is for administrators: your token has no admin role.' })));
    return;
  }
  const messages = h('div', { class: 'messages' });
  const live = h('p', { class: 'sr-only', 'aria-live': 'polite' });
  const rows = h('tbody');
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let pollUntil = 0;

  async function refresh() {
    clearTimeout(timer);
    let items;
    try {
      items = (await get('/admin/projections')).items;
    } catch (error) {
      replace(messages, refusal(error, 'read the projections'));
      return;
    }
    rows.replaceChildren(
      ...items.map((/** @type {any} */ p) => {
        const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', 'data-rebuild': p.name, disabled: p.status === 'rebuilding', text: `Rebuild ${p.name}` }));
        button.addEventListener('click', () => rebuild(p.name, button));
        return h(
          'tr',
          { 'data-projection': p.name },
          h('th', { scope: 'row', 'data-label': 'Projection', text: p.name }),
          h('td', { 'data-label': 'Version', text: p.version }),
          h('td', { 'data-label': 'Position', class: 'number', text: p.position }),
          h('td', { 'data-label': 'Lag', class: 'number', text: p.lag }),
          h('td', { 'data-label': 'Status' }, h('span', { class: `badge projection-${p.status}`, 'data-status': p.status, text: p.status })),
          h('td', { 'data-label': 'Rebuild' }, progress(p)),
          h('td', { 'data-label': 'Error' }, errorCell(p.error)),
          h('td', { 'data-label': 'Action' }, button),
        );
      }),
    );
    const rebuilding = items.filter((/** @type {any} */ p) => p.status === 'rebuilding').map((/** @type {any} */ p) => p.name);
    live.textContent = rebuilding.length ? `Rebuilding ${rebuilding.join(', ')}.` : 'No rebuild running.';
    if (rebuilding.length || Date.now() < pollUntil) timer = setTimeout(refresh, POLL_MS);
  }

  /**
   * @param {string} name
   * @param {HTMLButtonElement} button
   */
  async function rebuild(name, button) {
    button.disabled = true;
    try {
      await write('POST', `/admin/projections/${enc(name)}/rebuild`);
      const box = success(`Rebuild of ${name} requested: its progress shows below.`);
      replace(messages, box);
      focus(box);
      // A rebuild is picked up by the process holding the projection: poll a while even before it shows.
      pollUntil = Date.now() + 5000;
      await refresh();
    } catch (error) {
      const box = refusal(error, `rebuild ${name}`);
      replace(messages, box);
      focus(box);
      button.disabled = false;
    }
  }

  replace(
    main,
    h('h1', { text: 'Admin' }),
    messages,
    h(
      'section',
      { 'aria-labelledby': 'projections-title' },
      h('h2', { id: 'projections-title', text: 'Projections' }),
      h('p', { class: 'hint', text: 'Each read model’s checkpoint (the last log position applied), how many events it trails the log by, and its status. A rebuild builds fresh tables from the first event while the live ones keep answering.' }),
      h(
        'table',
        { class: 'projections' },
        h('thead', null, h('tr', null, ['Projection', 'Version', 'Position', 'Lag', 'Status', 'Rebuild', 'Error', ''].map((c) => h('th', { scope: 'col', text: c })))),
        rows,
      ),
      h('div', { class: 'buttons' }, h('button', { type: 'button', class: 'quiet', text: 'Refresh', on: { click: refresh } })),
      live,
    ),
    webhooksPanel(),
  );
  await refresh();
}
