// @ts-check
// The desk's only way to the server: the public HTTP API with the signed-in person's token, like any
// other client. After its own writes it reads with X-Wait-For-Position, so a page never shows the state
// from before the change it just made.

import { forgetToken, storedToken } from './session.js';

const POSITION_KEY = 'copydesk.desk.position';

/** A problem+json answer (RFC 9457), or a network failure dressed as one. */
export class ProblemError extends Error {
  /**
   * @param {Record<string, any>} problem
   * @param {number} status
   * @param {Headers | null} headers
   */
  constructor(problem, status, headers) {
    super(typeof problem.detail === 'string' ? problem.detail : `HTTP ${status}`);
    this.problem = problem;
    this.status = status;
    this.headers = headers;
  }
}

/** The highest position this tab wrote, so that reads wait for it (positions are decimal strings of any size). */
function lastWrite() {
  return sessionStorage.getItem(POSITION_KEY);
}

/** @param {unknown} position */
function rememberWrite(position) {
  if (typeof position !== 'string' || !/^\d+$/.test(position)) return;
  const known = lastWrite();
  if (known === null || BigInt(position) > BigInt(known)) sessionStorage.setItem(POSITION_KEY, position);
}

/** A fresh Idempotency-Key: one per action, so a retried request is applied once. */
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `desk-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, headers?: Record<string, string>, wait?: boolean }} [options]
 */
async function call(method, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json, application/problem+json', ...options.headers };
  const token = storedToken();
  if (token) headers.authorization = `Bearer ${token}`;
  const position = options.wait ? lastWrite() : null;
  if (position) headers['x-wait-for-position'] = position;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), cache: 'no-store' });
  } catch (error) {
    throw new ProblemError({ type: 'network', title: 'No answer', detail: `The server could not be reached (${error instanceof Error ? error.message : error}).` }, 0, null);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const problem = data && typeof data === 'object' ? data : { type: 'unexpected', title: response.statusText, detail: `HTTP ${response.status}` };
    if (response.status === 401) forgetToken();
    throw new ProblemError(problem, response.status, response.headers);
  }
  return { data, headers: response.headers, status: response.status };
}

/**
 * A read; read-model routes wait until what this tab wrote is projected.
 * @param {string} path
 * @returns {Promise<any>}
 */
export async function get(path) {
  return (await call('GET', path, { wait: true })).data;
}

/**
 * A write with its own Idempotency-Key, and `If-Match` when the caller names the revision it decided on.
 * @param {'POST' | 'PUT' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{ ifMatch?: number }} [options]
 * @returns {Promise<{ id: string, revision: number, position: string, [more: string]: unknown }>}
 */
export async function write(method, path, body, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { 'idempotency-key': newKey() };
  if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
  const { data } = await call(method, path, { body: body ?? {}, headers });
  rememberWrite(data?.position);
  return data;
}

/**
 * Checks a token against the server before keeping it (any signed-in role may list articles).
 * @param {string} token
 */
export async function tryToken(token) {
  const response = await fetch('/articles?limit=1', { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, cache: 'no-store' });
  if (response.ok) return;
  const problem = await response.json().catch(() => ({ detail: `HTTP ${response.status}` }));
  throw new ProblemError(problem, response.status, response.headers);
}

/**
 * Every page of a list, up to `max` items.
 * @param {string} path a path with its query string, without limit and cursor
 * @param {number} max
 * @returns {Promise<{ items: any[], truncated: boolean }>}
 */
export async function getAll(path, max) {
  const items = [];
  let cursor = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${separator}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < max);
  return { items, truncated: !!cursor };
}

/** @param {string} segment */
export const enc = (segment) => encodeURIComponent(segment);
