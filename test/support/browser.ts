import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, Page, chromium } from 'playwright-core';

/** The system's Chromium (Debian's `chromium` package; `.ci/run` installs it), or `CHROMIUM_PATH`. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of each view, for a reviewer to look at (git-ignored). */
export const ARTIFACTS = join(__dirname, '..', 'artifacts', 'desk');

/**
 * Headless Chromium, as root too. Without the background-networking flags Chromium tries to reach
 * Google's services, which a closed network refuses; Playwright makes a fresh profile for each launch.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH.`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** What a page did that a spec may want to assert never happened (or did). */
export interface PageWatch {
  page: Page;
  context: BrowserContext;
  dialogs: string[];
  errors: string[];
  /** The API requests the page made, with their headers. */
  requests: { method: string; url: string; headers: Record<string, string> }[];
}

/** A fresh browser context (its own sessionStorage: one person) with one page on `baseUrl`, watched. */
export async function openPage(browser: Browser, baseUrl: string, viewport = { width: 1280, height: 900 }): Promise<PageWatch> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport, locale: 'en-GB', timezoneId: 'UTC' });
  const page = await context.newPage();
  const watch: PageWatch = { page, context, dialogs: [], errors: [], requests: [] };
  page.on('dialog', (dialog) => {
    watch.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => watch.errors.push(error.message));
  page.on('request', (request) => {
    if (request.resourceType() === 'fetch') watch.requests.push({ method: request.method(), url: request.url(), headers: request.headers() });
  });
  return watch;
}

/** Saves a full-page screenshot under test/artifacts/desk/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** An axe-core rule broken on the page, with the elements that break it. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

let axeSource: string | undefined;

// page.evaluate's callbacks run in the browser; the project's TypeScript has no DOM types.
declare const window: { axe: { run: (context: unknown, options: object) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } };
declare const document: unknown;

/**
 * Runs axe-core's WCAG 2.1 A and AA rules (labels, names, contrast, landmarks, ARIA …) on the page as it
 * stands. The engine is evaluated through the DevTools protocol, which the page's CSP does not govern.
 */
export async function accessibilityViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
}
