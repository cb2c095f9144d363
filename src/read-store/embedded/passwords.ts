import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { createWhole } from './files';

/**
 * The password kept in `file` (mode 0600), generated on first use. Passwords are base64url, so they
 * go into connection URLs as they are. Another process creating the file first wins.
 */
export async function passwordIn(file: string): Promise<string> {
  const existing = readPassword(file);
  if (existing) return existing;
  createWhole(file, `${randomBytes(32).toString('base64url')}\n`);
  return keptPassword(file);
}

/** Another process's password, or this one's, once the file is there; written by createWhole's fallback (files.ts), it may still be empty for a moment. */
async function keptPassword(file: string): Promise<string> {
  const deadline = Date.now() + 1000;
  for (;;) {
    const kept = readPassword(file);
    if (kept) return kept;
    // Only an older copydesk that stopped between creating the file and writing it leaves it empty for good.
    if (Date.now() > deadline) throw new Error(`${file} is empty: restore it as it was, or delete it if PostgreSQL was never started with it`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function readPassword(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // Written 0600; put back if someone loosened it.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return text || undefined;
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677), computed here so that
 * `ALTER ROLE … PASSWORD` never carries the password itself: nothing the server might log or keep
 * in `pg_stat_statements` reveals it.
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
