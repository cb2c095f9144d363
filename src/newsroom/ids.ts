import { createHash } from 'node:crypto';

/** Copydesk's UUID v5 namespace (a fixed random UUID). */
const NAMESPACE = Buffer.from('4b0f1f3e8a7c4d2e9f6b1a2c3d4e5f60', 'hex');

/**
 * Name-based UUID (RFC 9562 version 5). Used to derive ids from a command id, so that a command
 * retried after a lost answer produces the same aggregate, quote, claim and event ids.
 */
export function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
