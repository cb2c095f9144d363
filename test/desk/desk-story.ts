import type { Page } from 'playwright-core';
import { Client } from 'pg';
import { TestApp } from '../support/app';
import { accessibilityViolations, screenshot } from '../support/browser';

/** The story the desk's specs review: its first body, and the body after the reporter's revision. */
export const BODY = [
  'The council voted on Monday to close the bridge.',
  'The mayor said “we will rebuild it” at a briefing on Tuesday.',
  'A resident said “it was falling apart” for years.',
].join('\n\n');
export const REVISED = ['The council voted on Monday to close the bridge for repairs.', 'The mayor said “we will rebuild it” at a briefing on Tuesday.'].join('\n\n');
export const XSS_HEADLINE = '<img src=x onerror="window.__xss=1;alert(1)">Bridge';

export interface Story {
  articleId: string;
  quotes: Record<'mayor' | 'resident', string>;
  claims: Record<'minutes' | 'falling', string>;
  /** An article whose headline, body, quote and speaker are markup. */
  xssId: string;
}

/**
 * The story as a reporter filed it, through the API: one quote attributed, one that left the body when
 * the body was revised and was withdrawn, two claims not checked yet (revision 8); and an article of
 * untrusted markup.
 */
export async function fileStory(t: TestApp, reporter: string): Promise<Story> {
  const send = async (method: 'post' | 'put', path: string, body: object = {}) => {
    const answer = await t.http()[method](path).set('authorization', `Bearer ${reporter}`).send(body);
    if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  const source = await send('post', '/sources', { name: 'Jane Doe', kind: 'person', title: 'Mayor', organization: 'City Hall' });
  const { id } = await send('post', '/articles', { headline: 'Bridge to close for repairs', body: BODY, byline: 'Rita Reporter', desk: 'City' });
  const mayor = (await send('post', `/articles/${id}/quotes`, { text: 'we will rebuild it', speaker: 'Jane Doe' })).quoteId;
  await send('post', `/articles/${id}/quotes/${mayor}/attribution`, { sourceId: source.id, method: 'press_briefing', attribution: 'told reporters' });
  const resident = (await send('post', `/articles/${id}/quotes`, { text: 'it was falling apart', speaker: 'A resident' })).quoteId;
  await send('post', `/articles/${id}/topics`, { topic: 'Local Infrastructure' });
  const minutes = (await send('post', `/articles/${id}/claims`, { text: 'The council voted on Monday to close the bridge' })).claimId;
  const falling = (await send('post', `/articles/${id}/claims`, { text: 'The bridge was falling apart', quoteId: resident })).claimId;
  await send('put', `/articles/${id}/body`, { body: REVISED });
  await send('post', `/articles/${id}/quotes/${resident}/withdrawal`, { reason: 'Could not confirm who said it' });

  const xss = await send('post', '/articles', { headline: XSS_HEADLINE, body: 'He wrote <script>window.__xss=2</script> and “<b onclick=alert(3)>bold</b>” in the copy.' });
  await send('post', `/articles/${xss.id}/quotes`, { text: '<b onclick=alert(3)>bold</b>', speaker: '<i>Mallory</i>' });
  return { articleId: id, quotes: { mayor, resident }, claims: { minutes, falling }, xssId: xss.id };
}

/** Saves the view's screenshot and checks it against axe-core's WCAG A/AA rules. */
export async function look(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  await expect(accessibilityViolations(page)).resolves.toEqual([]);
}

export const claimItem = (page: Page, id: string) => page.locator(`li[data-claim-id="${id}"]`);

/** The body's paragraphs as a reader reads them, without the quotes' reference numbers. */
export const bodyText = (page: Page): Promise<string[]> =>
  page
    .getByTestId('body')
    .evaluate((body) => [...body.querySelectorAll('p')].map((p) => [...p.childNodes].filter((n: { nodeName: string }) => n.nodeName !== 'SUP').map((n) => n.textContent).join('')));

/** The publish blockers the article view lists. */
export const blockers = (page: Page): Promise<string[]> => page.getByTestId('blockers').locator('li').allTextContents();

/** Records a verdict through the claim's form, as a fact checker would, and waits for the page to say so. */
export async function recordVerdict(page: Page, claimId: string, verdict: string, evidence: { url?: string; note: string }): Promise<void> {
  const item = claimItem(page, claimId);
  if (!(await item.locator('details.verdict').evaluate((details) => (details as unknown as { open: boolean }).open))) await item.getByText('Record a verdict').click();
  await item.getByLabel('Verdict', { exact: true }).selectOption(verdict);
  if (evidence.url) await item.getByLabel('Link (optional)').fill(evidence.url);
  await item.getByLabel('What it shows').fill(evidence.note);
  await item.getByRole('button', { name: 'Record verdict' }).click();
  // The message of this verdict, alone (a reload that failed would add a sentence to it).
  await page.getByRole('status').filter({ hasText: new RegExp(`^Verdict “${verdict[0].toUpperCase()}${verdict.slice(1)}” recorded \\(revision \\d+\\)\\.$`) }).waitFor();
}

/** When the projection was last rebuilt (null: never), from its status row. */
export async function rebuiltAt(t: TestApp, name: string): Promise<Date | null> {
  const client = new Client({ connectionString: t.db.url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT rebuilt_at FROM projection_status WHERE name = $1', [name]);
    return rows[0]?.rebuilt_at ?? null;
  } finally {
    await client.end();
  }
}
