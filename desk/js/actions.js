// @ts-check
// The decisive actions, shown to the roles that may take them: submit (reporter, editor), approve and
// publish (editor), record a verdict (fact checker). Review actions send If-Match with the revision on
// screen, so nobody approves or publishes a version they have not seen (a verdict is about its claim,
// whose text never changes, so it does not). A refusal is said in words.

import { enc, write } from './api.js';
import { field, focus, h, replace } from './dom.js';
import { VERDICT_LABELS } from './format.js';
import { refusal, success } from './refusals.js';
import { hasRole } from './session.js';

/**
 * @typedef {{ article: any, who: import('./session.js').Identity, messages: HTMLElement, reload: (flash: HTMLElement) => Promise<void> }} ActionContext
 */

/**
 * Runs a write from a button or form: disables it meanwhile, then reloads the view with a success
 * message, or shows the refusal and leaves everything as it was.
 * @param {ActionContext} ctx
 * @param {HTMLButtonElement} button
 * @param {string} action what it does, as in "Could not {action}"
 * @param {() => Promise<{ revision: number }>} run
 * @param {(result: { revision: number }) => string} done
 */
async function act(ctx, button, action, run, done) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  let result;
  try {
    result = await run();
  } catch (error) {
    const box = refusal(error, action, ctx.article);
    replace(ctx.messages, box);
    focus(box);
    button.disabled = false;
    button.removeAttribute('aria-busy');
    return;
  }
  const message = success(done(result));
  try {
    await ctx.reload(message);
  } catch {
    // Done, but the page could not be read again (the server still catching up, say): say both.
    message.append(h('p', { text: 'The page could not show the change yet: reload it in a moment.' }));
    replace(ctx.messages, message);
    focus(message);
  }
}

/**
 * The review actions for the signed-in role, with a sentence saying what the status allows.
 * @param {ActionContext} ctx
 */
export function reviewActions(ctx) {
  const { article, who } = ctx;
  const path = `/articles/${enc(article.id)}`;
  const ifMatch = { ifMatch: article.revision };
  /** @type {HTMLElement[]} */
  const buttons = [];
  /** @type {string[]} */
  const notes = [];
  /**
   * @param {string} label
   * @param {string} action
   * @param {string} route
   * @param {(r: { revision: number }) => string} done
   */
  const button = (label, action, route, done) => {
    const b = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', 'data-action': action, text: label }));
    b.addEventListener('click', () => act(ctx, b, action, () => write('POST', `${path}/${route}`, {}, ifMatch), done));
    buttons.push(b);
  };
  const writer = hasRole(who, 'reporter', 'editor');
  const editor = hasRole(who, 'editor');
  switch (article.status) {
    case 'draft':
      if (writer) button('Submit for review', 'submit', 'submission', (r) => `Submitted for review (revision ${r.revision}).`);
      if (editor) notes.push('Approval becomes possible once the article is submitted for review.');
      break;
    case 'in_review':
      if (editor) button('Approve', 'approve', 'approval', (r) => `Approved (revision ${r.revision}). It can now be published.`);
      else if (writer) notes.push('In review: an editor who did not submit or write it must approve it.');
      break;
    case 'approved':
      if (editor) button('Publish', 'publish', 'publication', (r) => `Published (revision ${r.revision}).`);
      else if (writer) notes.push('Approved: an editor can publish it.');
      break;
    case 'published':
      notes.push('Published.');
      break;
    case 'retracted':
      notes.push('Retracted: the article can no longer change.');
      break;
  }
  if (hasRole(who, 'fact_checker') && article.status !== 'retracted') notes.push('Record verdicts on the claims below.');
  if (!buttons.length && !notes.length) return null;
  return h('section', { class: 'card actions', 'aria-labelledby': 'actions-title' }, h('h2', { id: 'actions-title', text: 'Your actions' }), notes.map((n) => h('p', { text: n })), buttons.length ? h('div', { class: 'buttons' }, buttons) : null);
}

/**
 * A fact checker's form to record a verdict on one claim, with one or more pieces of evidence.
 * @param {ActionContext} ctx
 * @param {{ id: string, text: string }} claim
 */
export function verdictForm(ctx, claim) {
  const key = claim.id.slice(0, 8);
  // No verdict chosen until the checker chooses one: the browser will not submit the form without it.
  const verdict = h(
    'select',
    { name: 'verdict', id: `verdict-${key}`, required: true },
    h('option', { value: '', text: 'Choose a verdict' }),
    Object.entries(VERDICT_LABELS).map(([value, label]) => h('option', { value, text: label })),
  );
  const evidence = h('div', { class: 'evidence-rows' });
  const addEvidence = () => {
    const n = evidence.children.length + 1;
    const row = h(
      'fieldset',
      { class: 'evidence-row' },
      h('legend', { text: `Evidence ${n}` }),
      field('Link (optional)', h('input', { type: 'url', name: 'url', id: `evidence-url-${key}-${n}`, placeholder: 'https://', inputmode: 'url' })),
      field('What it shows', h('textarea', { name: 'note', id: `evidence-note-${key}-${n}`, rows: '2', maxlength: '2000' })),
    );
    evidence.append(row);
    return row;
  };
  addEvidence();
  const note = h('textarea', { name: 'verdict-note', id: `verdict-note-${key}`, rows: '2', maxlength: '2000' });
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', text: 'Record verdict' }));
  const form = h(
    'form',
    { class: 'verdict-form', 'aria-label': 'Record a verdict on this claim' },
    field('Verdict', verdict),
    evidence,
    h('button', { type: 'button', class: 'quiet', text: 'Add more evidence', on: { click: () => focus(/** @type {HTMLElement} */ (addEvidence().querySelector('input'))) } }),
    field('Note (optional)', note, 'How you checked, for the record.'),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const items = [...evidence.querySelectorAll('fieldset')]
      .map((row) => ({ url: /** @type {HTMLInputElement} */ (row.querySelector('input')).value.trim(), note: /** @type {HTMLTextAreaElement} */ (row.querySelector('textarea')).value.trim() }))
      .filter((e) => e.url || e.note)
      .map((e) => (e.url ? e : { note: e.note }));
    const text = /** @type {HTMLTextAreaElement} */ (note).value.trim();
    const chosen = /** @type {HTMLSelectElement} */ (verdict).value;
    const body = { verdict: chosen, evidence: items, ...(text ? { note: text } : {}) };
    void act(ctx, submit, 'record the verdict', () => write('POST', `/articles/${enc(ctx.article.id)}/claims/${enc(claim.id)}/verdict`, body), (r) => `Verdict “${VERDICT_LABELS[chosen]}” recorded (revision ${r.revision}).`);
  });
  return h('details', { class: 'verdict' }, h('summary', { text: 'Record a verdict' }), form);
}
