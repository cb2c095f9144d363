// @ts-check
// The admin page's webhooks panel: each subscription (url, events, status, checkpoint, last error) with its
// recent deliveries on demand, a form to register one (its secret shown once), and a delete that asks first.
// Subscriptions and open delivery lists are polled while the panel is on screen, so a checkpoint moving
// and a delivery arriving show without a reload.

import { enc, get, write } from './api.js';
import { field, focus, h, replace } from './dom.js';
import { time } from './format.js';
import { refusal, success } from './refusals.js';

/** How often the subscriptions (and any open delivery list) are read again while the page is shown. */
const POLL_MS = 2000;
/** How many deliveries a subscription's list shows (the newest). */
const DELIVERIES_SHOWN = 20;

/** @type {Record<string, string>} */
const STATUS_WORDS = { active: 'active', failing: 'failing', disabled: 'disabled', delivered: 'delivered', retrying: 'retrying', failed: 'failed' };

/** @param {string} status */
const statusBadge = (status) => h('span', { class: `badge webhook-${status}`, 'data-status': status, text: STATUS_WORDS[status] ?? status });

/** @param {string | null | undefined} text */
const orDash = (text) => (text === null || text === undefined || text === '' ? h('span', { class: 'muted', text: '—' }) : h('span', { text }));

/**
 * `"a, b"` → `["a", "b"]`; `"*"` → `["*"]`. Empty pieces are dropped, so an empty field sends `[]` and the
 * server's refusal names `events`.
 * @param {string} text
 */
export const parseEvents = (text) =>
  text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');

/**
 * @param {any} d a delivery
 */
function deliveryRow(d) {
  return h(
    'tr',
    { 'data-event-id': d.eventId },
    h('td', { 'data-label': 'Event', text: d.eventType }),
    h('td', { 'data-label': 'Stream', class: 'id', text: d.streamId }),
    h('td', { 'data-label': 'Position', class: 'number', text: d.position }),
    h('td', { 'data-label': 'Attempts', class: 'number', text: d.attempts }),
    h('td', { 'data-label': 'Status' }, statusBadge(d.status)),
    h('td', { 'data-label': 'Response', class: 'number' }, d.responseStatus === null || d.responseStatus === undefined ? orDash(null) : String(d.responseStatus)),
    h('td', { 'data-label': 'Last error' }, d.lastError ? h('span', { class: 'error-text', text: d.lastError }) : orDash(null)),
    h('td', { 'data-label': 'Delivered' }, time(d.deliveredAt)),
  );
}

/**
 * The panel, as a section element; it keeps itself up to date while it is in the document.
 * @returns {HTMLElement}
 */
export function webhooksPanel() {
  const messages = h('div', { class: 'messages' });
  const list = h('div', { class: 'webhooks-list' });
  const live = h('p', { class: 'sr-only', 'aria-live': 'polite' });
  /** @type {Map<string, HTMLElement>} subscriptions whose deliveries are open: the body of each one's delivery table */
  const openDeliveries = new Map();
  /** @type {Map<string, HTMLElement>} the card of each subscription shown, kept across refreshes (open lists, focus) */
  const cards = new Map();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  /** @param {HTMLElement} box */
  function say(box) {
    replace(messages, box);
    focus(box);
  }

  /**
   * @param {string} id
   * @param {HTMLElement} body the delivery table's body
   * @param {HTMLElement} note what the list says about itself
   */
  async function loadDeliveries(id, body, note) {
    try {
      const page = await get(`/admin/webhooks/${enc(id)}/deliveries?limit=${DELIVERIES_SHOWN}`);
      body.replaceChildren(...page.items.map(deliveryRow));
      note.textContent = page.items.length
        ? `${page.items.length === 1 ? 'The only delivery' : `The ${page.items.length} newest deliveries`}${page.nextCursor ? ` (older ones not shown)` : ''}, newest first.`
        : 'Nothing delivered yet: deliveries start with the first event after the subscription was made.';
    } catch (error) {
      replace(note, refusal(error, 'read the deliveries'));
    }
  }

  /**
   * The fields of a subscription card, refreshed in place.
   * @param {any} w
   */
  function facts(w) {
    return h(
      'dl',
      { class: 'facts' },
      h('dt', { text: 'Status' }),
      h('dd', { 'data-field': 'status' }, statusBadge(w.status)),
      h('dt', { text: 'Events' }),
      h('dd', { 'data-field': 'events', text: w.events.includes('*') ? '* (every event)' : w.events.join(', ') }),
      h('dt', { text: 'Position' }),
      h('dd', { 'data-field': 'position', class: 'number', title: 'The last log position delivered (or passed over: not an event this subscription wants)', text: w.position }),
      h('dt', { text: 'Last error' }),
      h('dd', { 'data-field': 'lastError' }, w.lastError ? h('span', { class: 'error-text', text: w.lastError }) : orDash(null)),
      h('dt', { text: 'Description' }),
      h('dd', { 'data-field': 'description' }, orDash(w.description)),
      h('dt', { text: 'Created' }),
      h('dd', { 'data-field': 'createdAt' }, time(w.createdAt)),
    );
  }

  /** @param {any} w */
  function card(w) {
    const titleId = `webhook-${w.id}`;
    const factsSlot = h('div', null, facts(w));
    const body = h('tbody');
    const note = h('p', { class: 'hint' });
    const details = /** @type {HTMLDetailsElement} */ (
      h(
        'details',
        { class: 'deliveries' },
        h('summary', { text: 'Recent deliveries' }),
        note,
        h(
          'table',
          { class: 'deliveries' },
          h('caption', { class: 'sr-only', text: `Recent deliveries to ${w.url}` }),
          h('thead', null, h('tr', null, ['Event', 'Stream', 'Position', 'Attempts', 'Status', 'Response', 'Last error', 'Delivered'].map((c) => h('th', { scope: 'col', text: c })))),
          body,
        ),
      )
    );
    details.addEventListener('toggle', () => {
      if (details.open) {
        openDeliveries.set(w.id, body);
        void loadDeliveries(w.id, body, note);
      } else openDeliveries.delete(w.id);
    });
    const deleteButton = h('button', { type: 'button', class: 'quiet', text: 'Delete…', 'aria-describedby': titleId });
    const confirmBox = h('div', { class: 'confirm', hidden: true });
    deleteButton.addEventListener('click', () => {
      const yes = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'danger', text: 'Yes, delete it' }));
      const no = h('button', { type: 'button', class: 'quiet', text: 'Cancel' });
      replace(
        confirmBox,
        h('p', { role: 'alert' }, 'Delete the subscription to ', h('strong', { text: w.url }), '? Deliveries stop at once; its delivery history stays on the server.'),
        h('div', { class: 'buttons' }, yes, no),
      );
      confirmBox.hidden = false;
      deleteButton.hidden = true;
      no.addEventListener('click', () => {
        confirmBox.hidden = true;
        confirmBox.replaceChildren();
        deleteButton.hidden = false;
        focus(deleteButton);
      });
      yes.addEventListener('click', () => remove(w, yes));
      focus(no);
    });
    const el = h(
      'article',
      { class: 'card webhook', 'data-webhook-id': w.id, 'aria-labelledby': titleId },
      h('h3', { id: titleId, class: 'url', text: w.url }),
      factsSlot,
      details,
      h('div', { class: 'buttons' }, deleteButton),
      confirmBox,
    );
    return { el, factsSlot };
  }

  /**
   * @param {any} w
   * @param {HTMLButtonElement} button
   */
  async function remove(w, button) {
    button.disabled = true;
    try {
      await write('DELETE', `/admin/webhooks/${enc(w.id)}`);
      say(success(`The subscription to ${w.url} is deleted: nothing more is delivered to it.`));
      await refresh();
    } catch (error) {
      button.disabled = false;
      say(refusal(error, `delete the subscription to ${w.url}`));
      if (error && /** @type {any} */ (error).problem?.type === 'webhook-not-found') await refresh();
    }
  }

  /** @type {Map<string, HTMLElement>} */
  const factSlots = new Map();

  async function refresh() {
    clearTimeout(timer);
    try {
      const page = await get('/admin/webhooks?limit=200');
      /** @type {any[]} */
      const items = page.items;
      const seen = new Set(items.map((w) => w.id));
      for (const id of [...cards.keys()]) {
        if (seen.has(id)) continue;
        cards.delete(id);
        factSlots.delete(id);
        openDeliveries.delete(id);
      }
      const ordered = items.map((w) => {
        let el = cards.get(w.id);
        if (el) replace(/** @type {HTMLElement} */ (factSlots.get(w.id)), facts(w));
        else {
          const made = card(w);
          el = made.el;
          cards.set(w.id, el);
          factSlots.set(w.id, made.factsSlot);
        }
        return el;
      });
      if (ordered.length) list.replaceChildren(...ordered);
      else replace(list, h('p', { class: 'muted', 'data-testid': 'no-webhooks', text: 'No webhook subscriptions: register one below.' }));
      if (page.nextCursor) list.append(h('p', { class: 'hint', text: 'Only the 200 newest subscriptions are shown.' }));
      const failing = items.filter((w) => w.status !== 'active').length;
      live.textContent = `${items.length} webhook subscription${items.length === 1 ? '' : 's'}${failing ? `, ${failing} failing or disabled` : ''}.`;
      await Promise.all(
        [...openDeliveries].map(([id, body]) => {
          const note = /** @type {HTMLElement} */ (body.closest('details')?.querySelector('p.hint'));
          return loadDeliveries(id, body, note);
        }),
      );
    } catch (error) {
      replace(list, refusal(error, 'read the webhook subscriptions'));
    }
    if (section.isConnected) timer = setTimeout(() => void refresh(), POLL_MS);
  }

  const url = /** @type {HTMLInputElement} */ (h('input', { type: 'text', inputmode: 'url', name: 'url', autocomplete: 'off', spellcheck: 'false', required: true }));
  const events = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'events', autocomplete: 'off', spellcheck: 'false', value: '*' }));
  const description = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'description', autocomplete: 'off', maxlength: '500' }));
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', text: 'Register webhook' }));
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'card register-webhook', novalidate: true, 'aria-labelledby': 'register-webhook-title' },
      h('h3', { id: 'register-webhook-title', text: 'Register a webhook' }),
      field('Destination URL', url, 'An http(s) address that answers 2xx within 10 seconds.'),
      field('Events', events, 'Event types separated by commas (for example ArticlePublished, CorrectionIssued), or * for every event.'),
      field('Description (optional)', description),
      h('div', { class: 'buttons' }, submit),
    )
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    const body = { url: url.value.trim(), events: parseEvents(events.value), ...(description.value.trim() ? { description: description.value.trim() } : {}) };
    try {
      const created = await write('POST', '/admin/webhooks', body);
      const box = h(
        'div',
        { class: 'message success secret', role: 'status', tabindex: '-1', 'data-testid': 'webhook-secret' },
        h('p', null, 'Subscribed ', h('strong', { text: String(created.url) }), '. Its signing secret, to verify each delivery’s signature:'),
        h('p', null, h('code', { class: 'secret-value', text: String(created.secret) })),
        h('p', { text: 'Copy it now: it will not be shown again. Lost, it cannot be read back: delete the subscription and register a new one.' }),
      );
      say(box);
      form.reset();
      events.value = '*';
      await refresh();
    } catch (error) {
      say(refusal(error, 'register the webhook'));
    } finally {
      submit.disabled = false;
    }
  });

  const section = h(
    'section',
    { 'aria-labelledby': 'webhooks-title', 'data-testid': 'webhooks' },
    h('h2', { id: 'webhooks-title', text: 'Webhooks' }),
    h('p', { class: 'hint', text: 'Each subscription’s destination, the events it wants, its status, its position (the last log position delivered) and why its last attempt failed, if it did. Refreshed every few seconds.' }),
    messages,
    list,
    form,
    live,
  );
  // The first read once the section is in the page (the caller appends it right away).
  queueMicrotask(() => void refresh());
  return section;
}
