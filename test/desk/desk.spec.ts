import { createHmac } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { signToken } from '../../src/auth/jwt';
import { TestApp, startTestApp } from '../support/app';
import { tamper } from '../support/tamper';
import { Receiver } from '../distribution/receiver';
import { PageWatch, launchChromium, openPage, screenshot } from '../support/browser';
import { BODY, REVISED, Story, XSS_HEADLINE, blockers, bodyText, claimItem, fileStory, look, rebuiltAt, recordVerdict } from './desk-story';

/*
 * The desk in a real browser (headless Chromium), against the real application on a free port: the
 * review of one story by a reporter, a fact checker and two editors in turn, its history and diffs,
 * untrusted text, the page's Content-Security-Policy, the admin page (projections, webhooks), and a
 * phone-sized screen. Webhooks go to a real receiver on 127.0.0.1, hence WEBHOOK_ALLOW_PRIVATE=true.
 * The specs run in order: each person picks the story up where the one before left it.
 */

jest.setTimeout(90_000);

// The callbacks given to page.evaluate run in the browser; the project's TypeScript has no DOM types.
declare const window: Record<string, unknown> & { innerWidth: number };
declare const document: any;

describe('the desk, in a real browser', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const tokens = {} as Record<'reporter' | 'checker' | 'ed' | 'eve' | 'admin', string>;
  let articleId: string;
  let claims: Story['claims'];
  let quotes: Story['quotes'];
  let xssId: string;

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTestApp({ env: { RATE_LIMIT_WRITES_PER_MINUTE: '100000', WEBHOOK_ALLOW_PRIVATE: 'true' } }), launchChromium()]);
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}`;
    tokens.reporter = t.token(['reporter'], 'rita', 'Rita Reporter');
    tokens.checker = t.token(['fact_checker'], 'fay', 'Fay Checker');
    tokens.ed = t.token(['editor'], 'ed', 'Ed Editor');
    tokens.eve = t.token(['editor'], 'eve', 'Eve Editor');
    tokens.admin = t.token(['admin'], 'ada', 'Ada Admin');

    ({ articleId, quotes, claims, xssId } = await fileStory(t, tokens.reporter));
    await caughtUp();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const people = new Map<keyof typeof tokens, PageWatch>();
  /** The person's own tab (a browser context of their own), signed in on first use and kept for the file. */
  async function person(name: keyof typeof tokens): Promise<PageWatch> {
    if (!people.has(name)) people.set(name, await signedIn(tokens[name]));
    return people.get(name)!;
  }

  /** Opens the desk at `path` in a fresh tab and signs in with `token`, from the keyboard. */
  async function signedIn(token: string, path = '/desk', viewport?: { width: number; height: number }): Promise<PageWatch> {
    const watch = await openPage(browser, base, viewport);
    await watch.page.goto(path);
    await watch.page.getByLabel('Token').fill(token);
    await watch.page.keyboard.press('Tab');
    await watch.page.keyboard.press('Enter');
    await watch.page.getByTestId('signed-in-as').waitFor();
    return watch;
  }

  /**
   * Waits until the read models have applied every event in the log. A tab reads its own writes (the
   * desk sends X-Wait-For-Position), but another person's only once projected, as anywhere else.
   */
  async function caughtUp() {
    for (let i = 0; ; i++) {
      const { items } = (await t.http().get('/admin/projections').set('authorization', `Bearer ${tokens.admin}`)).body as { items: { lag: number }[] };
      if (items.every((p) => p.lag === 0)) return;
      if (i > 100) throw new Error('the read models did not catch up in 10 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Opens the story's article in the person's tab, once everyone's writes are projected. */
  async function article(page: Page) {
    await caughtUp();
    await page.goto(`/desk/articles/${articleId}`);
    await page.getByTestId('headline').waitFor();
  }

  it('asks for a token, says why one is refused, keeps a good one in the tab only, and forgets it on signing out', async () => {
    const { page, context } = await openPage(browser, base);
    await page.goto('/desk');
    await page.getByLabel('Token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not a token');
    await page.getByLabel('Token').fill(signToken('a-secret-this-server-does-not-know-at-all', { id: 'rita', name: 'Rita Reporter', roles: ['reporter'] }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'refused' }).textContent()).resolves.toMatch(/The server refused this token/);
    await look(page, '01-sign-in');

    // A good token is kept in this tab's sessionStorage only, and signing out forgets it.
    const token = t.token(['reporter'], 'rita', 'Rita Reporter');
    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signed-in-as').waitFor();
    const storage = () => page.evaluate(() => ({ session: { ...window.sessionStorage as object }, local: { ...window.localStorage as object } }));
    await expect(storage()).resolves.toEqual({ session: { 'copydesk.desk.token': token }, local: {} });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    await expect(storage()).resolves.toEqual({ session: {}, local: {} });
    await context.close();
  });

  it('shows a reporter the list and the article: quotes marked in the body, who said them, what is no longer in the body, and what blocks publication', async () => {
    const { page, errors } = await person('reporter');
    await expect(page.getByTestId('signed-in-as').textContent()).resolves.toBe('Signed in as Rita Reporter (reporter)');
    const row = page.getByRole('row').filter({ hasText: 'Bridge to close for repairs' });
    await expect(row.textContent()).resolves.toContain('Local Infrastructure');
    await page.getByLabel('Search headline and body').fill('rebuild');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=rebuild/);
    await page.getByText('1 article shown.').waitFor();
    await expect(page.locator('table.articles a.headline').allTextContents()).resolves.toEqual(['Bridge to close for repairs']);
    await look(page, '02-list');

    await page.getByRole('link', { name: 'Bridge to close for repairs' }).click();
    await page.getByTestId('headline').waitFor();
    const mark = page.locator(`mark[data-quote-id="${quotes.mayor}"]`);
    await expect(mark.textContent()).resolves.toBe('we will rebuild it');
    await expect(bodyText(page)).resolves.toEqual(REVISED.split('\n\n'));
    await expect(mark.getAttribute('title')).resolves.toBe('Jane Doe · source: Jane Doe · press briefing');
    // The withdrawn quote left the body: no mark, and a visible flag on its entry.
    await expect(page.locator(`mark[data-quote-id="${quotes.resident}"]`).count()).resolves.toBe(0);
    const mayor = page.locator(`li[data-quote-id="${quotes.mayor}"]`);
    await expect(mayor.textContent()).resolves.toContain('Source: Jane Doe, Mayor, City Hall · press briefing · “told reporters”');
    const resident = page.locator(`li[data-quote-id="${quotes.resident}"]`);
    await expect(resident.getByTestId('not-in-body').isVisible()).resolves.toBe(true);
    await expect(resident.textContent()).resolves.toMatch(/Withdrawn.*No longer in the body/);
    await expect(blockers(page)).resolves.toEqual([
      'The claim “The council voted on Monday to close the bridge” has no verdict yet: a fact checker must record one.',
      'The claim “The bridge was falling apart” has no verdict yet: a fact checker must record one.',
    ]);
    await expect(page.getByTestId('integrity').textContent()).resolves.toMatch(/Intact All 9 events match their hashes/);
    // A reporter may submit; approving, publishing and verdicts are not theirs to take.
    await expect(page.getByRole('button').allTextContents()).resolves.toEqual(['Sign out', 'Submit for review']);
    await expect(page.getByText('Record a verdict').count()).resolves.toBe(0);
    await look(page, '03-article-reporter');
    expect(errors).toEqual([]);
  });

  it('lets a fact checker record a verdict with evidence, and then reads with X-Wait-For-Position', async () => {
    const { page, requests, errors } = await person('checker');
    await article(page);
    await expect(page.getByRole('button', { name: /Approve|Publish|Submit/ }).count()).resolves.toBe(0);
    // No verdict is chosen for the checker: the form is not sent until one is.
    const form = claimItem(page, claims.minutes);
    await form.getByText('Record a verdict').click();
    await form.getByRole('button', { name: 'Record verdict' }).click();
    await expect(form.getByLabel('Verdict', { exact: true }).evaluate((select) => (select as unknown as { validity: { valid: boolean } }).validity.valid)).resolves.toBe(false);
    expect(requests.filter((r) => r.method === 'POST')).toEqual([]);
    await recordVerdict(page, claims.minutes, 'verified', { url: 'https://example.org/minutes', note: 'Council minutes' });
    const item = claimItem(page, claims.minutes);
    await expect(item.locator('.badge').first().textContent()).resolves.toBe('Verified');
    await expect(item.getByRole('link', { name: 'Council minutes' }).getAttribute('href')).resolves.toBe('https://example.org/minutes');
    await expect(item.textContent()).resolves.toContain('Checked by Fay Checker');
    await expect(blockers(page)).resolves.toEqual(['The claim “The bridge was falling apart” has no verdict yet: a fact checker must record one.']);
    // The write carried an Idempotency-Key; the reads after it waited for the position it answered.
    const verdict = requests.find((r) => r.method === 'POST' && r.url.endsWith(`/claims/${claims.minutes}/verdict`))!;
    expect(verdict.headers['idempotency-key']).toMatch(/^desk-[0-9a-f]{32}$/);
    const history = await t.http().get(`/articles/${articleId}/history?limit=200`).set('authorization', `Bearer ${tokens.checker}`);
    const position = history.body.items.at(-1).position;
    const after = requests.slice(requests.indexOf(verdict) + 1).find((r) => r.method === 'GET' && r.url.endsWith(`/articles/${articleId}`))!;
    expect(after.headers['x-wait-for-position']).toBe(position);
    // The other claim's form open, so that its controls are checked too (labels, names, contrast).
    await claimItem(page, claims.falling).getByText('Record a verdict').click();
    await look(page, '04-article-fact-checker');
    expect(errors).toEqual([]);
  });

  it('refuses the approval to the editor who submitted the article, in words', async () => {
    const { page } = await person('ed');
    await article(page);
    await page.getByRole('button', { name: 'Submit for review' }).click();
    await page.getByRole('status').filter({ hasText: /^Submitted for review \(revision 10\)\.$/ }).waitFor();
    await expect(page.locator('.meta .badge').textContent()).resolves.toBe('In review');
    // From the keyboard: the focus is on the message; Tab on to the Approve button.
    await page.getByRole('button', { name: 'Approve' }).focus();
    await page.keyboard.press('Enter');
    const refusal = page.getByRole('alert');
    await expect(refusal.textContent()).resolves.toBe(
      'Refused by the four-eyes rule: An article cannot be approved by the person who submitted it.' +
        'Another editor, who neither submitted this article nor wrote any of its content, must approve it.',
    );
    await expect(page.evaluate(() => document.activeElement?.getAttribute('role'))).resolves.toBe('alert');
    await expect(page.locator('.meta .badge').textContent()).resolves.toBe('In review');
    await look(page, '05-four-eyes-refused');
  });

  it('approves only the revision the editor saw (If-Match), and shows publication blocked, and why', async () => {
    const { page, requests } = await person('eve');
    await article(page);
    // Someone tags a topic meanwhile: the page is one revision behind.
    await t.http().post(`/articles/${articleId}/topics`).set('authorization', `Bearer ${tokens.reporter}`).send({ topic: 'Transport' }).expect(201);
    await page.getByRole('button', { name: 'Approve' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^Not done: the article changed since this page showed it .*Reload the page, look at what changed, and decide again\.$/);
    const approve = requests.find((r) => r.method === 'POST' && r.url.endsWith('/approval'))!;
    expect(approve.headers['if-match']).toBe('"10"');

    await caughtUp();
    await page.reload();
    await page.getByTestId('headline').waitFor();
    await expect(page.locator('.topics li').allTextContents()).resolves.toEqual(['Local Infrastructure', 'Transport']);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('status').filter({ hasText: /^Approved \(revision 12\)\. It can now be published\.$/ }).waitFor();
    await expect(page.locator('.meta .badge').textContent()).resolves.toBe('Approved');

    await page.getByRole('button', { name: 'Publish' }).click();
    const refusal = page.getByRole('alert');
    await expect(refusal.locator('p').textContent()).resolves.toBe('Cannot publish: the article cannot be published while this holds.');
    await expect(refusal.locator('li').allTextContents()).resolves.toEqual(['The claim “The bridge was falling apart” has no verdict yet: a fact checker must record one.']);
    await expect(page.locator('.meta .badge').textContent()).resolves.toBe('Approved');
    await look(page, '06-publish-blocked');
  });

  it('publishes once the last claim has a verdict', async () => {
    const checker = await person('checker');
    await article(checker.page);
    await recordVerdict(checker.page, claims.falling, 'misleading', { note: 'Inspection found wear, not collapse' });
    await expect(blockers(checker.page)).resolves.toEqual([]);
    await expect(checker.page.getByTestId('blockers').textContent()).resolves.toContain('Nothing blocks publication.');

    const { page } = await person('eve');
    await article(page);
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByRole('status').filter({ hasText: /^Published \(revision 14\)\.$/ }).waitFor();
    await expect(page.locator('.meta .badge').textContent()).resolves.toBe('Published');
    await expect(page.locator('.meta').textContent()).resolves.toContain('published');
    await expect(page.getByTestId('integrity').textContent()).resolves.toMatch(/Intact All 15 events match their hashes/);
    await look(page, '07-published');
  });

  it('opens the history, any revision as it stood, and a readable diff between two revisions', async () => {
    const { page, errors } = await person('eve');
    await article(page);
    await page.getByRole('link', { name: 'History and diffs' }).click();
    await page.locator('ol.timeline').waitFor();
    const events = page.locator('ol.timeline > li');
    await expect(events.count()).resolves.toBe(15);
    await expect(events.locator('.headline-row strong').allTextContents()).resolves.toEqual([
      'Drafted',
      'Quote added',
      'Quote attributed',
      'Quote added',
      'Topic tagged',
      'Claim recorded',
      'Claim recorded',
      'Body revised',
      'Quote withdrawn',
      'Verdict recorded',
      'Submitted for review',
      'Topic tagged',
      'Approved',
      'Verdict recorded',
      'Published',
    ]);
    await expect(events.nth(2).textContent()).resolves.toContain('“we will rebuild it” attributed to Jane Doe, by press briefing (told reporters).');
    await expect(events.nth(8).textContent()).resolves.toMatch(/“it was falling apart” withdrawn: Could not confirm who said it.*by Rita Reporter/);
    await look(page, '08-history');

    // Revision 2, as it stood: the first body, the resident's quote still in it and not yet attributed.
    await page.getByRole('link', { name: 'Revision 3', exact: true }).click();
    await page.getByTestId('headline').waitFor();
    await expect(page.getByRole('note').textContent()).resolves.toContain('This is the article as it stood at revision 3');
    await expect(bodyText(page)).resolves.toEqual(BODY.split('\n\n'));
    await expect(page.locator(`mark[data-quote-id="${quotes.resident}"]`).getAttribute('class')).resolves.toBe('quote quote-unattributed');
    await expect(page.getByRole('button', { name: /Approve|Publish|Submit/ }).count()).resolves.toBe(0);
    await look(page, '09-revision-3');

    // Compare revision 0 with the last one, chosen on the timeline.
    await page.goBack();
    await page.locator('ol.timeline').waitFor();
    await page.getByLabel('Compare from revision 0').check();
    await page.getByLabel('Compare to revision 14').check();
    await page.getByRole('button', { name: 'Compare the chosen revisions' }).first().click();
    await page.waitForURL(/\/diff\?from=0&to=14$/);
    await page.getByTestId('diff-body').waitFor();
    await expect(page.getByTestId('diff-status').textContent()).resolves.toBe('Status: Draft → Published');
    const body = page.getByTestId('diff-body');
    // The first paragraph changed by two words, marked inline; the resident's paragraph went.
    const changed = body.locator('.line.changed');
    await expect(changed.count()).resolves.toBe(1);
    await expect(changed.locator('ins').allTextContents()).resolves.toEqual([' for repairs']);
    await expect(changed.textContent()).resolves.toBe('Changed paragraph: The council voted on Monday to close the bridge for repairs.');
    await expect(body.locator('.line.removed').allTextContents()).resolves.toEqual(['Removed paragraph: A resident said “it was falling apart” for years.']);
    await expect(body.locator('.line.added').count()).resolves.toBe(0);
    await expect(body.locator('.line.context').allTextContents()).resolves.toEqual(['The mayor said “we will rebuild it” at a briefing on Tuesday.']);
    await expect(page.getByTestId('diff-quotes-added').locator('li').allTextContents()).resolves.toEqual([
      '“we will rebuild it” — Jane Doe, from Jane Doe (press briefing)',
      '“it was falling apart” — A resident',
    ]);
    await expect(page.getByTestId('diff-quotes-withdrawn').locator('li').allTextContents()).resolves.toEqual(['“it was falling apart” — A resident']);
    await expect(page.getByTestId('diff-verdicts').locator('li').allTextContents()).resolves.toEqual([
      '“The council voted on Monday to close the bridge”: none → Verified',
      '“The bridge was falling apart”: none → Misleading',
    ]);
    await expect(page.getByTestId('diff-topics-added').locator('li').allTextContents()).resolves.toEqual(['Local Infrastructure', 'Transport']);
    await expect(page.getByTestId('diff-headline').count()).resolves.toBe(0);
    await look(page, '10-diff-0-14');

    // Two revisions in the middle, typed in (either way round): only what happened between them.
    await page.getByLabel('From revision').fill('13');
    await page.getByLabel('To revision').fill('9');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.waitForURL(/\/diff\?from=13&to=9$/);
    await page.locator('h1').filter({ hasText: 'Changes from revision 9 to 13' }).waitFor();
    await expect(page.getByTestId('diff-status').textContent()).resolves.toBe('Status: Draft → Approved');
    await expect(page.getByTestId('diff-verdicts').locator('li').allTextContents()).resolves.toEqual(['“The bridge was falling apart”: none → Misleading']);
    await expect(page.getByText('The body did not change.').count()).resolves.toBe(1);
    await expect(page.getByTestId('diff-quotes-added').count()).resolves.toBe(0);
    expect(errors).toEqual([]);
  });

  it('shows a body replaced beyond what a line diff compares as a whole-body replacement', async () => {
    const paragraphs = (word: string) => Array.from({ length: 600 }, (_, i) => `${word} ${i}.`).join('\n\n');
    const reporter = { authorization: `Bearer ${tokens.reporter}` };
    const { id } = (await t.http().post('/articles').set(reporter).send({ headline: 'Long list', body: paragraphs('Alpha') }).expect(201)).body;
    await t.http().put(`/articles/${id}/body`).set(reporter).send({ body: paragraphs('Beta') }).expect(200);
    const { page } = await person('eve');
    await page.goto(`/desk/articles/${id}/diff?from=0&to=1`);
    await page.getByTestId('diff-body').waitFor();
    await expect(page.getByTestId('diff-body').getByRole('paragraph').first().textContent()).resolves.toBe(
      'The two bodies differ too much to compare paragraph by paragraph: the old body is shown removed and the new one added.',
    );
    const lines = page.getByTestId('diff-body').locator('.line');
    await expect(Promise.all(['removed', 'added', 'changed', 'context'].map((kind) => lines.and(page.locator(`.${kind}`)).count()))).resolves.toEqual([600, 600, 0, 0]);
    await expect(lines.nth(0).textContent()).resolves.toBe('Removed paragraph: Alpha 0.');
    await expect(lines.nth(600).textContent()).resolves.toBe('Added paragraph: Beta 0.');
  });

  it('renders untrusted text as text: markup in a headline, a body, a quote and a speaker runs nothing', async () => {
    const { page, dialogs, errors } = await person('eve');
    await page.goto('/desk');
    const link = page.locator('table.articles a.headline').filter({ hasText: 'onerror' });
    await expect(link.textContent()).resolves.toBe(XSS_HEADLINE);
    await link.click();
    await page.getByTestId('headline').waitFor();
    await expect(page.getByTestId('headline').textContent()).resolves.toBe(XSS_HEADLINE);
    await expect(page.title()).resolves.toBe(`${XSS_HEADLINE} · Copydesk desk`);
    await expect(bodyText(page)).resolves.toEqual(['He wrote <script>window.__xss=2</script> and “<b onclick=alert(3)>bold</b>” in the copy.']);
    await expect(page.locator('mark.quote').textContent()).resolves.toBe('<b onclick=alert(3)>bold</b>');
    await expect(page.locator('ol.quotes').textContent()).resolves.toContain('Said by <i>Mallory</i>');
    await screenshot(page, '11-untrusted-text');
    const noMarkup = () => page.locator('main img, main script, main b, main i').count();
    await expect(noMarkup()).resolves.toBe(0);
    await page.getByRole('link', { name: 'History and diffs' }).click();
    await page.locator('ol.timeline').waitFor();
    await expect(page.getByTestId('headline').textContent()).resolves.toBe(XSS_HEADLINE);
    await expect(noMarkup()).resolves.toBe(0);
    await page.goto(`/desk/articles/${xssId}/diff?from=0`);
    await page.getByTestId('headline').waitFor();
    await expect(page.getByTestId('diff-quotes-added').textContent()).resolves.toBe('Quotes added“<b onclick=alert(3)>bold</b>” — <i>Mallory</i>');
    await expect(noMarkup()).resolves.toBe(0);
    await expect(page.evaluate(() => window.__xss)).resolves.toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('shows an auditor where the hash chain breaks when a stored event was altered', async () => {
    await tamper(t.db, [{ sql: `UPDATE events SET data = jsonb_set(data, '{speaker}', '"Someone else"') WHERE stream_id = $1 AND revision = 1`, params: [`article-${xssId}`] }]);
    const { page } = await person('eve');
    await page.goto(`/desk/articles/${xssId}`);
    await expect(page.getByTestId('integrity').getByRole('alert').textContent()).resolves.toBe('Broken At revision 1 (QuoteAdded): the event no longer matches its hash: it was altered.');
    await page.goto(`/desk/articles/${articleId}`);
    await expect(page.getByTestId('integrity').textContent()).resolves.toMatch(/Intact All 15 events/);
  });

  it('says each kind of refusal in words, with what to do about it', async () => {
    const { page } = await person('eve');
    const cases: [problem: object, status: number, headers: Record<string, string>, action: string][] = [
      [{ type: 'idempotency-key-in-flight', detail: 'A request with this key is still running' }, 409, { 'retry-after': '2' }, 'approve'],
      [{ type: 'publish-blocked', detail: '…', blockers: [{ kind: 'quote-unattributed', quoteId: 'q1' }, { kind: 'quote-not-in-body', quoteId: 'q1' }, { kind: 'claim-unverified', claimId: 'c1' }] }, 409, {}, 'publish'],
      [{ type: 'invalid-transition', detail: 'Cannot move the article from draft to published; only an approved article can become published' }, 409, {}, 'publish'],
      [{ type: 'forbidden', detail: 'This needs one of the roles: editor.' }, 403, {}, 'approve'],
      [{ type: 'rate-limited', detail: 'Too many writes' }, 429, { 'retry-after': '30' }, 'publish'],
      [{ type: 'validation-failed', detail: 'Invalid body', errors: [{ field: 'evidence[0].url', message: 'url must be an http(s) URL' }] }, 400, {}, 'record the verdict'],
    ];
    // The desk's own modules, imported in the page as the page imports them (a string: TypeScript would rewrite import()).
    const words = await page.evaluate(`(async (cases) => {
      const { explain } = await import('/desk/assets/js/refusals.js');
      const { ProblemError } = await import('/desk/assets/js/api.js');
      const known = { claims: [{ id: 'c1', text: 'The bridge is safe' }], quotes: [{ id: 'q1', text: 'we will', speaker: 'Jane' }] };
      return cases.map(([problem, status, headers, action]) => {
        const { summary, details } = explain(new ProblemError(problem, status, new Headers(headers)), action, known);
        return [summary, ...details].join(' | ');
      });
    })(${JSON.stringify(cases)})`);
    expect(words).toEqual([
      'The same request is still being processed. Try again in 2 seconds.',
      'Cannot publish: the article cannot be published while these 3 things hold. | The quote “we will” (Jane) is not attributed to a source. | The quote “we will” (Jane) no longer appears in the body: put it back or withdraw it. | The claim “The bridge is safe” has no verdict yet: a fact checker must record one.',
      'Cannot publish the article in its present state: Cannot move the article from draft to published; only an approved article can become published.',
      'Your role may not approve this: This needs one of the roles: editor.',
      'Too many changes in a minute. Try again in 30 seconds.',
      'Some fields need attention before you can record the verdict: | evidence[0].url: url must be an http(s) URL',
    ]);
  });

  it('sends the desk a Content-Security-Policy that refuses inline script and string markup, while /docs keeps the policy its UI needs', async () => {
    const directives = (csp: string) => csp.split(';').map((d) => d.trim());
    for (const path of ['/desk', `/desk/articles/${articleId}/history`, '/desk/assets/js/main.js', '/desk/assets/desk.css']) {
      const answer = await t.http().get(path);
      expect([path, answer.status]).toEqual([path, 200]);
      const csp = directives(answer.headers['content-security-policy']);
      expect(csp).toEqual(expect.arrayContaining(["default-src 'none'", "script-src 'self'", "style-src 'self'", "require-trusted-types-for 'script'", "frame-ancestors 'none'"]));
      expect(csp.join(';')).not.toContain('unsafe');
    }
    // Only the desk's code and the diff package's modules are served; no markup, no package metadata.
    await expect(t.http().get('/desk/node_modules/diff/libesm/index.js')).resolves.toMatchObject({ status: 200, headers: expect.objectContaining({ 'content-type': expect.stringMatching(/javascript/) }) });
    // (A wildcard route that finds no file is a 404, not a 405 naming the methods it takes.)
    for (const path of ['/desk/assets/index.html', '/desk/assets/nothing.js', '/desk/node_modules/diff/package.json', '/desk/nothing-here', '/docs/nothing.js'])
      await expect(t.http().get(path).then((r) => [path, r.status, r.body.type])).resolves.toEqual([path, 404, 'not-found']);
    await expect(t.http().get('/desk/?status=draft').then((r) => [r.status, r.headers.location])).resolves.toEqual([302, '/desk?status=draft']);
    const docs = await t.http().get('/docs');
    expect(directives(docs.headers['content-security-policy'])).toContain("script-src 'self' 'unsafe-inline'");

    // An inline script slipped into the page (here by the test, on its way from the server) does not run; the desk still does.
    const { page, context } = await openPage(browser, base);
    const console: string[] = [];
    page.on('console', (message) => console.push(message.text()));
    await page.route('**/desk', async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace('</head>', '<script>window.__inline = 1</script></head>');
      await route.fulfill({ response, body });
    });
    await page.goto('/desk');
    await page.getByLabel('Token').waitFor();
    await expect(page.evaluate(() => window.__inline)).resolves.toBeUndefined();
    expect(console.some((text) => /Executing inline script violates the following Content Security Policy directive 'script-src 'self''/.test(text))).toBe(true);
    // Markup from a string is refused outright (Trusted Types), so no code path can render data as HTML.
    await expect(page.evaluate(() => {
      try {
        document.body.insertAdjacentHTML('beforeend', '<img src=x>');
        return 'inserted';
      } catch (error) {
        return (error as Error).name;
      }
    })).resolves.toBe('TypeError');
    await expect(page.locator('img').count()).resolves.toBe(0);

    // /docs: the Swagger UI still renders under its own policy.
    await page.goto('/docs');
    await expect(page.locator('.swagger-ui .info .title').textContent()).resolves.toContain('Copydesk');
    await context.close();
  });

  it('shows an administrator the projections, and a rebuild with its progress polled live', async () => {
    const { page, requests } = await person('admin');
    await page.goto('/desk/admin');
    await page.locator('tr[data-projection]').first().waitFor();
    const fromApi = (await t.http().get('/admin/projections').set('authorization', `Bearer ${tokens.admin}`)).body.items as { name: string; position: string }[];
    await expect(page.locator('tr[data-projection] th').allTextContents()).resolves.toEqual(fromApi.map((p) => p.name));
    await expect(page.locator('tr[data-projection="articles"] td[data-label="Status"]').textContent()).resolves.toBe('running');
    await expect(page.locator('tr[data-projection="articles"] td[data-label="Lag"]').textContent()).resolves.toBe('0');
    await page.getByTestId('no-webhooks').waitFor();

    const polled = () => requests.filter((r) => r.method === 'GET' && r.url.endsWith('/admin/projections')).length;
    const before = polled();
    await expect(rebuiltAt(t, 'sources')).resolves.toBeNull();
    await page.getByRole('button', { name: 'Rebuild sources' }).click();
    await page.getByRole('status').filter({ hasText: 'Rebuild of sources requested' }).waitFor();
    // The runner rebuilt it (fresh tables, swapped in), and the page, polling, shows it running again.
    for (let i = 0; (await rebuiltAt(t, 'sources')) === null; i++) {
      if (i > 100) throw new Error('the sources projection was not rebuilt in 20 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // The page is still polling: its next answer shows the rebuilt projection running, no rebuild left.
    await page.waitForResponse((r) => r.url().endsWith('/admin/projections') && r.request().method() === 'GET');
    await page.waitForFunction(() => document.querySelector('tr[data-projection="sources"] [data-status]')?.getAttribute('data-status') === 'running' && !document.querySelector('tr[data-projection="sources"] progress'));
    // Requests are counted by a listener that may record the last poll a moment after its response resolved the wait.
    for (let i = 0; polled() - before < 2 && i < 50; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(polled() - before).toBeGreaterThanOrEqual(2);
    await look(page, '12-admin');

    const reporter = await person('reporter');
    await reporter.page.goto('/desk/admin');
    await expect(reporter.page.getByRole('alert').textContent()).resolves.toBe('This page is for administrators: your token has no admin role.');
    await expect(reporter.page.getByRole('link', { name: 'Admin' }).count()).resolves.toBe(0);
  });

  it('shows an administrator the webhook subscriptions: registers one (its secret once), shows a write delivered and the position advancing, explains refusals, deletes one after asking', async () => {
    const receiver = await new Receiver().start();
    let strict: TestApp | undefined;
    try {
      const { page, errors, dialogs } = await person('admin');
      await page.goto('/desk/admin');
      const panel = page.getByTestId('webhooks');
      await panel.getByTestId('no-webhooks').waitFor();
      const register = async (url: string, events: string, description = '') => {
        await panel.getByLabel('Destination URL').fill(url);
        await panel.getByLabel('Events').fill(events);
        await panel.getByLabel('Description (optional)').fill(description);
        await panel.getByRole('button', { name: 'Register webhook' }).click();
      };

      // A destination that is not http(s) is refused (400 naming url), in words; nothing is registered.
      await register('ftp://127.0.0.1/hook', '*');
      await expect(panel.getByRole('alert').innerText()).resolves.toBe('Some fields need attention before you can register the webhook:\n\nurl: url must be an http(s) URL');
      await register('http://127.0.0.1:9/hook', 'NoSuchEvent, *');
      await expect(panel.getByRole('alert').filter({ hasText: 'events:' }).innerText()).resolves.toMatch(/^Some fields need attention before you can register the webhook:\n\nevents: each of events must be "\*" or an event type: ArticleDrafted, /);
      await expect(t.http().get('/admin/webhooks').set('authorization', `Bearer ${tokens.admin}`).then((r) => r.body.items)).resolves.toEqual([]);

      // Registered to a real receiver, from the form: the secret is shown once, with a note that says so.
      // The url and description are untrusted text (an HTML entity in the url, markup in the description).
      const url = `${receiver.url}?from=desk&amp;x=1`;
      const description = '<img src=x onerror="window.__xss=4">Syndication <b>feed</b>';
      await register(url, ' ArticleDrafted,HeadlineChanged ', description);
      const secretBox = panel.getByTestId('webhook-secret');
      await secretBox.waitFor();
      const secret = (await secretBox.locator('code').textContent())!;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      await expect(secretBox.innerText()).resolves.toContain('Copy it now: it will not be shown again.');
      const [hook] = (await t.http().get('/admin/webhooks').set('authorization', `Bearer ${tokens.admin}`)).body.items as { id: string; url: string; events: string[]; position: string; description: string }[];
      expect(hook).toMatchObject({ url, events: ['ArticleDrafted', 'HeadlineChanged'], description });
      const card = page.locator(`article[data-webhook-id="${hook.id}"]`);
      const fact = (name: string) => card.locator(`dd[data-field="${name}"]`).innerText();
      await expect(card.locator('h3').textContent()).resolves.toBe(url);
      await expect(fact('description')).resolves.toBe(description);
      await expect(fact('events')).resolves.toBe('ArticleDrafted, HeadlineChanged');
      await expect(fact('status')).resolves.toBe('active');
      await expect(fact('position')).resolves.toBe(hook.position);
      await expect(fact('lastError')).resolves.toBe('—');
      await expect(page.locator('[data-testid="webhooks"] img, [data-testid="webhooks"] b').count()).resolves.toBe(0);
      await expect(page.evaluate(() => window.__xss)).resolves.toBeUndefined();

      // Its deliveries open from the keyboard; none yet.
      await card.locator('summary').focus();
      await page.keyboard.press('Enter');
      await card.getByText('Nothing delivered yet').waitFor();

      // A write: the page, polling, shows the checkpoint reach it and the delivery listed as delivered.
      const drafted = await t.http().post('/articles').set('authorization', `Bearer ${tokens.reporter}`).send({ headline: 'Ferry timetable changes', body: 'The ferry runs hourly from Monday.' });
      expect(drafted.status).toBe(201);
      const { id: draftedId, position } = drafted.body as { id: string; position: string };
      await receiver.until(() => receiver.delivered.length === 1, 20_000, 'the drafted article to be delivered');
      const row = card.locator('table.deliveries tbody tr');
      await row.filter({ hasText: 'delivered' }).waitFor();
      await expect(fact('position')).resolves.toBe(position);
      expect(BigInt(position)).toBeGreaterThan(BigInt(hook.position));
      await expect(row.count()).resolves.toBe(1);
      const cells = await row.locator('td').allInnerTexts();
      expect(cells.slice(0, 7)).toEqual(['ArticleDrafted', `article-${draftedId}`, position, '1', 'delivered', '200', '—']);
      expect(cells[7]).not.toBe('—');
      // The secret the page showed is the one the deliveries are signed with.
      const sent = receiver.delivered[0];
      const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
      expect(sent.signature.split(' ')).toContain(`v1,${createHmac('sha256', key).update(`${sent.id}.${sent.timestamp}.${sent.body}`).digest('base64')}`);
      await look(page, '12b-admin-webhooks');
      // On a phone, the subscription and its deliveries fit the screen (one column, labelled cells).
      const phone = await signedIn(tokens.admin, '/desk/admin', { width: 390, height: 844 });
      const phoneCard = phone.page.locator(`article[data-webhook-id="${hook.id}"]`);
      await phoneCard.locator('summary').click();
      await phoneCard.locator('table.deliveries tbody tr').filter({ hasText: 'delivered' }).waitFor();
      await expect(phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).resolves.toBeLessThanOrEqual(0);
      await screenshot(phone.page, '12c-phone-admin-webhooks');
      await phone.context.close();

      // Once the page is left, the secret is nowhere: the list never carries it.
      await page.reload();
      await card.waitFor();
      await expect(page.locator('main').innerText()).resolves.not.toContain(secret);
      await expect(panel.getByTestId('webhook-secret').count()).resolves.toBe(0);

      // Deleting asks first; Cancel keeps it, confirming deletes it.
      await card.getByRole('button', { name: 'Delete…' }).click();
      await expect(card.getByRole('alert').innerText()).resolves.toBe(`Delete the subscription to ${url}? Deliveries stop at once; its delivery history stays on the server.`);
      await card.getByRole('button', { name: 'Cancel' }).click();
      await expect(card.getByRole('button', { name: 'Delete…' }).evaluate((b) => b === document.activeElement)).resolves.toBe(true);
      await card.getByRole('button', { name: 'Delete…' }).click();
      await card.getByRole('button', { name: 'Yes, delete it' }).click();
      await panel.getByRole('status').filter({ hasText: `The subscription to ${url} is deleted: nothing more is delivered to it.` }).waitFor();
      await panel.getByTestId('no-webhooks').waitFor();
      await expect(t.http().get(`/admin/webhooks/${hook.id}`).set('authorization', `Bearer ${tokens.admin}`).then((r) => [r.status, r.body.type])).resolves.toEqual([404, 'webhook-not-found']);
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);

      // A server that refuses private destinations (the default) says why, in words, and registers nothing.
      strict = await startTestApp();
      await strict.app.listen(0, '127.0.0.1');
      const strictBase = `http://127.0.0.1:${(strict.app.getHttpServer().address() as { port: number }).port}`;
      const other = await openPage(browser, strictBase);
      await other.page.goto('/desk/admin');
      await other.page.getByLabel('Token').fill(strict.token(['admin'], 'ada', 'Ada Admin'));
      await other.page.getByRole('button', { name: 'Sign in' }).click();
      const otherPanel = other.page.getByTestId('webhooks');
      await otherPanel.getByTestId('no-webhooks').waitFor();
      await otherPanel.getByLabel('Destination URL').fill(receiver.url);
      await otherPanel.getByRole('button', { name: 'Register webhook' }).click();
      await expect(otherPanel.getByRole('alert').innerText()).resolves.toBe(
        [
          `The server refused this destination: the destination's host 127.0.0.1 is on a loopback or private network (127.0.0.1); set WEBHOOK_ALLOW_PRIVATE=true to allow it.`,
          'Webhooks go to public http(s) addresses only. A receiver on this network needs the server started with WEBHOOK_ALLOW_PRIVATE=true.',
        ].join('\n\n'),
      );
      await expect(strict.http().get('/admin/webhooks').set('authorization', `Bearer ${strict.token(['admin'], 'ada', 'Ada Admin')}`).then((r) => r.body.items)).resolves.toEqual([]);
      await other.context.close();
    } finally {
      await strict?.close();
      await receiver.stop();
    }
  });

  it('is readable on a phone: one column, nothing wider than the screen', async () => {
    const { page, context } = await signedIn(tokens.checker, '/desk', { width: 390, height: 844 });
    await page.locator('table.articles a.headline').first().waitFor();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await expect(overflow()).resolves.toBeLessThanOrEqual(0);
    await screenshot(page, '13-phone-list');
    await article(page);
    await expect(overflow()).resolves.toBeLessThanOrEqual(0);
    const [body, side] = await Promise.all([page.locator('section.body').boundingBox(), page.locator('div.side').boundingBox()]);
    expect(side!.y).toBeGreaterThanOrEqual(body!.y + body!.height);
    await look(page, '14-phone-article');
    await context.close();
  });
});
