// @ts-check
// `/desk/articles/{id}`: the article as it stands, and `/desk/articles/{id}/revisions/{n}`: as it stood.
// The body shows every quote marked where it stands; the lists say who is quoted, from which source,
// how, and whether each quote is still in the body; claims carry their verdicts and evidence.

import { enc, get } from './api.js';
import { reviewActions, verdictForm } from './actions.js';
import { focus, h, replace } from './dom.js';
import { METHOD_LABELS, statusBadge, time, verdictBadge } from './format.js';
import { blockerText } from './refusals.js';
import { hasRole } from './session.js';

const WHITESPACE_RUN = /[\p{White_Space}\uFEFF]+/gu;
/** As the server matches quotes: NFC, every run of whitespace one space. */
const normalise = (/** @type {string} */ s) => s.normalize('NFC').replace(WHITESPACE_RUN, ' ').trim();
const paragraphsOf = (/** @type {string} */ body) => body.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p.length > 0).map(normalise);

/**
 * The body, one <p> a paragraph, each quote wrapped in a <mark> that links to its entry in the list,
 * and the ids of the quotes marked. A quote is looked for in the paragraph the server located it in,
 * then anywhere; one that spans paragraphs is not marked.
 * @param {any} article
 */
function markedBody(article) {
  const paragraphs = paragraphsOf(article.body);
  /** @type {{ start: number, end: number, quote: any, n: number }[][]} */
  const marks = paragraphs.map(() => []);
  article.quotes.forEach((/** @type {any} */ quote, /** @type {number} */ i) => {
    const text = normalise(quote.text);
    if (!text) return;
    const order = [quote.paragraph, ...paragraphs.keys()].filter((p, k, all) => p >= 0 && p < paragraphs.length && all.indexOf(p) === k);
    for (const p of order) {
      const start = paragraphs[p].indexOf(text);
      if (start === -1) continue;
      const end = start + text.length;
      // Two quotes overlapping in the text: the first keeps the mark, the list still shows both.
      if (!marks[p].some((m) => start < m.end && m.start < end)) marks[p].push({ start, end, quote, n: i + 1 });
      break;
    }
  });
  const marked = new Set(marks.flat().map((m) => m.quote.id));
  const elements = paragraphs.map((text, p) => {
    const el = h('p');
    let at = 0;
    for (const m of marks[p].sort((a, b) => a.start - b.start)) {
      el.append(text.slice(at, m.start));
      const q = m.quote;
      const who = [q.speaker, q.source ? `source: ${q.source.name}` : 'no source', q.method ? METHOD_LABELS[q.method] ?? q.method : null].filter(Boolean).join(' · ');
      el.append(
        h('mark', { class: `quote quote-${q.status}`, id: `mark-${q.id}`, title: who, 'data-quote-id': q.id }, text.slice(m.start, m.end)),
        h('sup', null, h('a', { href: `#quote-${q.id}`, class: 'ref', 'aria-label': `Quote ${m.n}: ${who}`, text: String(m.n) })),
      );
      at = m.end;
    }
    el.append(text.slice(at));
    return el;
  });
  return { elements, marked };
}

/** @param {any} quote */
function sourceLine(quote) {
  if (!quote.source) return h('p', { class: 'muted', text: 'Not attributed to a source.' });
  const s = quote.source;
  const who = [s.name, s.title, s.organization].filter(Boolean).join(', ');
  return h('p', null, 'Source: ', h('strong', { text: who }), ` · ${METHOD_LABELS[quote.method] ?? quote.method ?? 'method unknown'}`, quote.attribution ? ` · “${quote.attribution}”` : '');
}

/**
 * @param {any} article
 * @param {Set<string>} marked the quotes marked in the body
 */
function quoteList(article, marked) {
  if (!article.quotes.length) return h('p', { class: 'muted', text: 'No quotes.' });
  return h(
    'ol',
    { class: 'quotes' },
    article.quotes.map((/** @type {any} */ q) =>
      h(
        'li',
        { id: `quote-${q.id}`, class: `quote-${q.status}`, 'data-quote-id': q.id },
        h('blockquote', { text: q.text }),
        h('p', null, 'Said by ', h('strong', { text: q.speaker }), ` · paragraph ${q.paragraph + 1}`),
        sourceLine(q),
        h(
          'p',
          { class: 'flags' },
          h('span', { class: `badge quote-status-${q.status}`, text: q.status === 'attributed' ? 'Attributed' : q.status === 'withdrawn' ? 'Withdrawn' : 'Unattributed' }),
          !q.inBody
            ? h('span', { class: 'badge flag-not-in-body', 'data-testid': 'not-in-body', text: '⚠ No longer in the body' })
            : marked.has(q.id)
              ? h('a', { href: `#mark-${q.id}`, text: 'Show in the body' })
              : h('span', { class: 'muted', text: 'In the body, across paragraphs' }),
        ),
      ),
    ),
  );
}

/**
 * @param {any} article
 * @param {import('./actions.js').ActionContext | null} ctx null: read only (a past revision)
 */
function claimList(article, ctx) {
  if (!article.claims.length) return h('p', { class: 'muted', text: 'No claims.' });
  const quoteNumber = new Map(article.quotes.map((/** @type {any} */ q, /** @type {number} */ i) => [q.id, i + 1]));
  return h(
    'ul',
    { class: 'claims' },
    article.claims.map((/** @type {any} */ c) =>
      h(
        'li',
        { id: `claim-${c.id}`, 'data-claim-id': c.id },
        h('p', { class: 'claim-text' }, verdictBadge(c.verdict), ' ', h('span', { text: c.text })),
        c.quoteId ? h('p', { class: 'muted' }, 'About ', h('a', { href: `#quote-${c.quoteId}`, text: `quote ${quoteNumber.get(c.quoteId) ?? ''}` })) : null,
        c.evidence?.length
          ? h(
              'ul',
              { class: 'evidence', 'aria-label': 'Evidence' },
              c.evidence.map((/** @type {any} */ e) => h('li', null, e.url ? h('a', { href: e.url, rel: 'noopener noreferrer nofollow', target: '_blank', text: e.note }) : h('span', { text: e.note }), e.url ? h('span', { class: 'url', text: ` (${e.url})` }) : null)),
            )
          : null,
        c.note ? h('p', { class: 'muted', text: `Note: ${c.note}` }) : null,
        c.checkedBy ? h('p', { class: 'muted' }, `Checked by ${c.checkedBy.name}, `, time(c.checkedAt)) : null,
        ctx && hasRole(ctx.who, 'fact_checker') && article.status !== 'retracted' ? verdictForm(ctx, c) : null,
      ),
    ),
  );
}

/**
 * What keeps the article from being published, by the rules the server applies.
 * @param {any} article
 */
function blockers(article) {
  /** @type {{ kind: string, quoteId?: string, claimId?: string }[]} */
  const found = [];
  for (const q of article.quotes) {
    if (q.status === 'withdrawn') continue;
    if (q.status === 'unattributed') found.push({ kind: 'quote-unattributed', quoteId: q.id });
    if (!q.inBody) found.push({ kind: 'quote-not-in-body', quoteId: q.id });
  }
  for (const c of article.claims) if (!c.verdict) found.push({ kind: 'claim-unverified', claimId: c.id });
  return h(
    'section',
    { class: `card blockers ${found.length ? 'blocked' : 'clear'}`, 'aria-labelledby': 'blockers-title', 'data-testid': 'blockers' },
    h('h2', { id: 'blockers-title', text: 'Publish blockers' }),
    found.length ? h('ul', null, found.map((b) => h('li', { text: blockerText(b, article) }))) : h('p', { text: 'Nothing blocks publication.' }),
  );
}

/** @type {Record<string, string>} */
const CHAIN_PROBLEMS = {
  'hash-mismatch': 'the event no longer matches its hash: it was altered',
  'previous-hash-mismatch': 'the event does not follow from the one before: events were removed, inserted or reordered',
  'revision-gap': 'a revision is missing from the log',
  'missing-hash': 'the event carries no hash',
  'missing-event': 'an event the audit trail recorded is no longer in the log',
};

/** @param {any} check the answer of `GET /articles/{id}/audit/verify`, or an Error */
function integrity(check) {
  let body;
  if (check instanceof Error) body = h('p', { class: 'muted', text: `The check could not run: ${check.message}` });
  else if (check.valid)
    body = h('p', null, h('span', { class: 'badge chain-valid', text: 'Intact' }), ` All ${check.events} events match their hashes. Head hash `, h('code', { class: 'hash', text: check.headHash ?? '—' }), '.');
  else {
    const b = check.firstBreak ?? {};
    body = h('p', { role: 'alert' }, h('span', { class: 'badge chain-broken', text: 'Broken' }), ` At revision ${b.revision} (${b.type ?? 'unknown event'}): ${CHAIN_PROBLEMS[b.problem] ?? b.problem}.`);
  }
  return h('section', { class: 'card integrity', 'aria-labelledby': 'integrity-title', 'data-testid': 'integrity' }, h('h2', { id: 'integrity-title', text: 'Hash chain' }), body);
}

/**
 * Headline, meta, body and the lists; `extra` goes between the meta and the body (actions, banners).
 * @param {any} article
 * @param {import('./actions.js').ActionContext | null} ctx
 * @param {(HTMLElement | null)[]} extra
 * @param {(HTMLElement | null)[]} side
 */
function articlePage(article, ctx, extra, side) {
  const body = markedBody(article);
  return [
    h('h1', { class: 'headline', 'data-testid': 'headline', text: article.headline }),
    h(
      'p',
      { class: 'meta' },
      statusBadge(article.status),
      article.byline ? ` By ${article.byline}` : '',
      article.desk ? ` · ${article.desk} desk` : '',
      ` · revision ${article.revision} · drafted `,
      time(article.createdAt),
      ' · updated ',
      time(article.updatedAt),
      article.publishedAt ? [' · published ', time(article.publishedAt)] : [],
    ),
    ...extra,
    h(
      'div',
      { class: 'columns' },
      h('section', { class: 'body', 'aria-labelledby': 'body-title' }, h('h2', { id: 'body-title', text: 'Body' }), h('div', { class: 'copy', 'data-testid': 'body' }, body.elements)),
      h(
        'div',
        { class: 'side' },
        ...side,
        h('section', { 'aria-labelledby': 'quotes-title' }, h('h2', { id: 'quotes-title', text: `Quotes (${article.quotes.length})` }), quoteList(article, body.marked)),
        h('section', { 'aria-labelledby': 'claims-title' }, h('h2', { id: 'claims-title', text: `Claims (${article.claims.length})` }), claimList(article, ctx)),
        h(
          'section',
          { 'aria-labelledby': 'topics-title' },
          h('h2', { id: 'topics-title', text: 'Topics' }),
          article.topics.length ? h('ul', { class: 'topics' }, article.topics.map((/** @type {any} */ t) => h('li', { text: t.label }))) : h('p', { class: 'muted', text: 'No topics.' }),
        ),
        h(
          'section',
          { 'aria-labelledby': 'corrections-title' },
          h('h2', { id: 'corrections-title', text: 'Corrections' }),
          article.corrections.length
            ? h('ul', { class: 'corrections' }, article.corrections.map((/** @type {any} */ c) => h('li', null, h('p', { text: c.text }), h('p', { class: 'muted' }, `Issued by ${c.issuedBy?.name ?? 'unknown'}, `, time(c.issuedAt)))))
            : h('p', { class: 'muted', text: 'No corrections.' }),
        ),
      ),
    ),
  ];
}

/**
 * @param {HTMLElement} main
 * @param {import('./session.js').Identity} who
 * @param {string} id
 * @param {HTMLElement | null} [flash] a message from the action that led here
 */
export async function renderArticle(main, who, id, flash = null) {
  const [article, check] = await Promise.all([get(`/articles/${enc(id)}`), get(`/articles/${enc(id)}/audit/verify`).catch((/** @type {Error} */ e) => e)]);
  document.title = `${article.headline} · Copydesk desk`;
  const messages = h('div', { class: 'messages', 'data-testid': 'messages' }, flash);
  /** @type {import('./actions.js').ActionContext} */
  const ctx = { article, who, messages, reload: (next) => renderArticle(main, who, id, next) };
  const links = h('p', { class: 'links' }, h('a', { href: `/desk/articles/${enc(id)}/history`, text: 'History and diffs' }), h('a', { href: '/desk', text: 'All articles' }));
  replace(main, articlePage(article, ctx, [links, messages, reviewActions(ctx)], [blockers(article), integrity(check)]));
  if (flash) focus(flash);
}

/**
 * @param {HTMLElement} main
 * @param {import('./session.js').Identity} _who
 * @param {string} id
 * @param {number} revision
 */
export async function renderRevision(main, _who, id, revision) {
  const [article, current] = await Promise.all([get(`/articles/${enc(id)}/revisions/${revision}`), get(`/articles/${enc(id)}`).catch(() => null)]);
  document.title = `Revision ${revision}: ${article.headline} · Copydesk desk`;
  const base = `/desk/articles/${enc(id)}`;
  const banner = h(
    'div',
    { class: 'message note', role: 'note' },
    h('p', null, `This is the article as it stood at revision ${revision}, `, time(article.updatedAt), ', rebuilt from the event log.'),
    h(
      'p',
      { class: 'links' },
      revision > 0 ? h('a', { href: `${base}/revisions/${revision - 1}`, text: 'Previous revision' }) : null,
      current && current.revision > revision ? h('a', { href: `${base}/revisions/${revision + 1}`, text: 'Next revision' }) : null,
      h('a', { href: `${base}/diff?from=${revision}`, text: 'Compare with the current revision' }),
      h('a', { href: `${base}/history`, text: 'History' }),
      h('a', { href: base, text: 'The article now' }),
    ),
  );
  replace(main, articlePage(article, null, [banner], []));
}

