// @ts-check
// The signed-in person: a token pasted by them, kept in this tab's sessionStorage only (gone when the
// tab closes, never sent anywhere but this server's API). The desk reads the token's claims to decide
// which actions to show; the server checks the token and the roles again on every request.

const TOKEN_KEY = 'copydesk.desk.token';

/**
 * @typedef {{ sub: string, name: string, roles: string[], exp: number | null }} Identity
 */

/**
 * The claims of a JWT, unverified (the server verifies).
 * @param {string} token
 * @returns {Identity}
 */
export function readToken(token) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('This is not a token: a token is three parts separated by dots (copydesk token prints one).');
  let claims;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error('This token cannot be read: its middle part is not base64url-encoded JSON.');
  }
  if (typeof claims !== 'object' || claims === null || typeof claims.sub !== 'string') throw new Error('This token names nobody (it has no "sub" claim).');
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r) => typeof r === 'string') : [];
  const exp = typeof claims.exp === 'number' ? claims.exp : null;
  if (exp !== null && exp * 1000 <= Date.now()) throw new Error(`This token expired on ${new Date(exp * 1000).toLocaleString()}.`);
  return { sub: claims.sub, name: typeof claims.name === 'string' && claims.name ? claims.name : claims.sub, roles, exp };
}

/** @returns {string | null} */
export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** @param {string} token */
export function keepToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * The signed-in person, or null when no token is kept or it can no longer be used.
 * @returns {Identity | null}
 */
export function currentIdentity() {
  const token = storedToken();
  if (!token) return null;
  try {
    return readToken(token);
  } catch {
    forgetToken();
    return null;
  }
}

/**
 * @param {Identity | null} identity
 * @param {...string} roles
 */
export const hasRole = (identity, ...roles) => !!identity && roles.some((role) => identity.roles.includes(role));

export const ROLE_NAMES = /** @type {Record<string, string>} */ ({ reporter: 'reporter', editor: 'editor', fact_checker: 'fact checker', admin: 'administrator' });
