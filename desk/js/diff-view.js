// @ts-check
// `/desk/articles/{id}/diff?from=&to=`: what changed between two revisions, readably: the body's
// paragraphs with the words that changed marked inline, then status, headline, quotes, claims, verdicts
// and topics. The body diff is the API's unified diff, parsed with the `diff` package (the one the
// server makes it with), which also finds the changed words within a changed paragraph.

import { diffArrays } from '../../node_modules/diff/libesm/diff/array.js';
import { diffWordsWithSpace } from '../../node_modules/diff/libesm/diff/word.js';
import { parsePatch } from '../../node_modules/diff/libesm/patch/parse.js';
import { enc, get } from './api.js';
import { field, h, replace, srOnly } from './dom.js';
import { METHOD_LABELS, STATUS_LABELS, VERDICT_LABELS, quoted, time, verdictBadge } from './format.js';

/** Words within a paragraph are compared for at most this long; past it the paragraph shows as replaced. */
const WORD_DIFF_MS = 200;

/**
 * `before` and `after` as one line, the removed words in <del>, the added ones in <ins>; null when the
 * comparison took too long.
 * @param {string} before
 * @param {string} after
 * @returns {HTMLElement[] | null}
 */
function inlineChanges(before, after) {
  const parts = diffWordsWithSpace(before, after, { timeout: WORD_DIFF_MS });
  if (!parts) return null;
  return parts.map((part) => (part.added ? h('ins', { text: part.value }) : part.removed ? h('del', { text: part.value }) : h('span', { text: part.value })));
}

/**
 * One hunk's lines as paragraphs: unchanged ones plain, changed ones marked word by word, the rest
 * removed or added whole. Within a run of removed and added lines, lines that are the same on both
 * sides (a last line that only gained or lost its newline) are unchanged, and between them the n-th
 * removed line is paired with the n-th added one.
 * @param {string[]} lines the hunk's lines, each starting with ' ', '-', '+' or '\\'
 * @param {boolean} pair false for a whole-body replacement
 */
function hunkParagraphs(lines, pair) {
  /** @type {HTMLElement[]} */
  const out = [];
  let removed = /** @type {string[]} */ ([]);
  let added = /** @type {string[]} */ ([]);
  /**
   * @param {string[]} before
   * @param {string[]} after
   */
  const changed = (before, after) => {
    const n = Math.min(before.length, after.length);
    for (let i = 0; i < n; i++) {
      const inline = inlineChanges(before[i], after[i]);
      if (inline) out.push(h('p', { class: 'line changed' }, srOnly('Changed paragraph: '), inline));
      else out.push(removedLine(before[i]), addedLine(after[i]));
    }
    before.slice(n).forEach((l) => out.push(removedLine(l)));
    after.slice(n).forEach((l) => out.push(addedLine(l)));
  };
  const flush = () => {
    const parts = pair ? diffArrays(removed, added, { timeout: WORD_DIFF_MS }) : undefined;
    if (!parts) {
      // A whole-body replacement, or runs too long to line up: every old line out, every new one in.
      removed.forEach((l) => out.push(removedLine(l)));
      added.forEach((l) => out.push(addedLine(l)));
    } else {
      let before = /** @type {string[]} */ ([]);
      let after = /** @type {string[]} */ ([]);
      for (const part of parts) {
        if (part.removed) before.push(...part.value);
        else if (part.added) after.push(...part.value);
        else {
          changed(before, after);
          before = [];
          after = [];
          part.value.forEach((text) => out.push(h('p', { class: 'line context', text })));
        }
      }
      changed(before, after);
    }
    removed = [];
    added = [];
  };
  for (const line of lines) {
    const sign = line[0];
    const text = line.slice(1);
    if (sign === '\\') continue;
    if (sign === '-' || sign === '+') {
      if (text.trim() === '') continue; // the blank lines between paragraphs
      (sign === '-' ? removed : added).push(text);
      continue;
    }
    flush();
    if (text.trim() !== '') out.push(h('p', { class: 'line context', text }));
  }
  flush();
  return out;
}

/** @param {string} text */
const removedLine = (text) => h('p', { class: 'line removed' }, srOnly('Removed paragraph: '), h('del', { text }));
/** @param {string} text */
const addedLine = (text) => h('p', { class: 'line added' }, srOnly('Added paragraph: '), h('ins', { text }));

/** @param {any} diff */
function bodySection(diff) {
  const title = h('h2', { id: 'diff-body-title', text: 'Body' });
  if (diff.body === null) return h('section', { 'aria-labelledby': 'diff-body-title' }, title, h('p', { class: 'muted', text: 'The body did not change.' }));
  const whole = diff.bodyDiff === 'whole';
  const [patch] = parsePatch(diff.body);
  const hunks = (patch?.hunks ?? []).map((hunk, i) =>
    h('div', { class: 'hunk' }, i > 0 || hunk.oldStart > 1 ? h('p', { class: 'gap', text: '… unchanged text not shown …' }) : null, hunkParagraphs(hunk.lines, !whole)),
  );
  return h(
    'section',
    { 'aria-labelledby': 'diff-body-title', 'data-testid': 'diff-body' },
    title,
    whole ? h('p', { class: 'message note', text: 'The two bodies differ too much to compare paragraph by paragraph: the old body is shown removed and the new one added.' }) : null,
    h('div', { class: 'copy diff' }, hunks),
    h('details', null, h('summary', { text: 'The unified diff, as the API sends it' }), h('pre', { class: 'unified', text: diff.body })),
  );
}

/**
 * @param {string} title
 * @param {string} testid
 * @param {(HTMLElement | null)[]} items
 */
const listSection = (title, testid, items) => {
  const present = items.filter(Boolean);
  return present.length ? h('section', { 'data-testid': testid }, h('h3', { text: title }), h('ul', null, present)) : null;
};

/** @param {any} q */
const quoteItem = (q) => h('li', null, h('span', { text: quoted(q.text) }), ` — ${q.speaker}`, q.source ? `, from ${q.source.name} (${METHOD_LABELS[q.method] ?? q.method})` : '');

/**
 * @param {HTMLElement} main
 * @param {import('./session.js').Identity} _who
 * @param {string} id
 * @param {URLSearchParams} params
 */
export async function renderDiff(main, _who, id, params) {
  const query = new URLSearchParams();
  for (const name of ['from', 'to']) if (/^\d{1,9}$/.test(params.get(name) ?? '')) query.set(name, /** @type {string} */ (params.get(name)));
  // Either order means the same comparison.
  if (query.has('from') && query.has('to') && Number(query.get('from')) > Number(query.get('to'))) {
    const from = /** @type {string} */ (query.get('from'));
    query.set('from', /** @type {string} */ (query.get('to')));
    query.set('to', from);
  }
  const diff = await get(`/articles/${enc(id)}/diff?${query}`);
  const after = await get(`/articles/${enc(id)}/revisions/${diff.to}`);
  document.title = `Changes ${diff.from}→${diff.to}: ${after.headline} · Copydesk desk`;
  const base = `/desk/articles/${enc(id)}`;
  const claimText = new Map(after.claims.map((/** @type {any} */ c) => [c.id, c.text]));

  const number = (/** @type {string} */ name, /** @type {number} */ value) => h('input', { type: 'number', name, id: `diff-${name}`, min: '0', step: '1', value, inputmode: 'numeric', required: true });
  const form = h('form', { class: 'filters revisions', method: 'get', action: `${base}/diff` }, field('From revision', number('from', diff.from)), field('To revision', number('to', diff.to)), h('button', { type: 'submit', text: 'Compare' }));

  const changes = h(
    'section',
    { class: 'card', 'aria-labelledby': 'diff-other-title' },
    h('h2', { id: 'diff-other-title', text: 'Status, headline, quotes, claims and topics' }),
    diff.status
      ? h('p', { 'data-testid': 'diff-status' }, 'Status: ', h('del', { text: STATUS_LABELS[diff.status.before] ?? diff.status.before }), ' → ', h('ins', { text: STATUS_LABELS[diff.status.after] ?? diff.status.after }))
      : h('p', { class: 'muted', text: 'The status did not change.' }),
    diff.headline
      ? h('p', { 'data-testid': 'diff-headline' }, 'Headline: ', inlineChanges(diff.headline.before, diff.headline.after) ?? [h('del', { text: diff.headline.before }), ' → ', h('ins', { text: diff.headline.after })])
      : h('p', { class: 'muted', text: 'The headline did not change.' }),
    listSection('Quotes added', 'diff-quotes-added', diff.quotes.added.map(quoteItem)),
    listSection('Quotes attributed', 'diff-quotes-attributed', diff.quotes.attributed.map(quoteItem)),
    listSection('Quotes withdrawn', 'diff-quotes-withdrawn', diff.quotes.withdrawn.map(quoteItem)),
    listSection('Claims recorded', 'diff-claims', diff.claims.recorded.map((/** @type {any} */ c) => h('li', null, verdictBadge(c.verdict), ' ', h('span', { text: c.text })))),
    listSection(
      'Verdicts',
      'diff-verdicts',
      diff.claims.verdicts.map((/** @type {any} */ v) =>
        h('li', null, h('span', { text: quoted(claimText.get(v.claimId) ?? v.claimId) }), ': ', v.before ? [h('del', { text: VERDICT_LABELS[v.before] ?? v.before }), ' → '] : 'none → ', verdictBadge(v.after)),
      ),
    ),
    listSection('Topics added', 'diff-topics-added', diff.topics.added.map((/** @type {any} */ t) => h('li', { text: t.label }))),
    listSection('Topics removed', 'diff-topics-removed', diff.topics.removed.map((/** @type {any} */ t) => h('li', { text: t.label }))),
  );

  replace(
    main,
    h('h1', null, `Changes from revision ${diff.from} to ${diff.to}: `, h('span', { 'data-testid': 'headline', text: after.headline })),
    h(
      'p',
      { class: 'links' },
      h('a', { href: `${base}/revisions/${diff.from}`, text: `Revision ${diff.from}` }),
      h('a', { href: `${base}/revisions/${diff.to}`, text: `Revision ${diff.to}` }),
      h('a', { href: `${base}/history`, text: 'History' }),
      h('a', { href: base, text: 'The article now' }),
    ),
    h('p', { class: 'muted' }, 'Revision ', String(diff.to), ' was last changed ', time(after.updatedAt), '.'),
    form,
    bodySection(diff),
    changes,
  );
}
