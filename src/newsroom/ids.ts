import { createHash, createHmac } from 'node:crypto';

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

/**
 * The command id of one actor's Idempotency-Key: HMAC-SHA256 keyed by the server's secret, as a UUID
 * (version 8, custom). The ids a command creates and its event ids derive from its command id, so
 * nobody without the secret can compute them before the command has run: no actor can take, ahead
 * of another, an id that the other's request will create. Every replica shares the key (it lives in
 * PostgreSQL), so a retry landing on another replica derives the same ids.
 */
export function keyedCommandId(secret: Buffer, actorId: string, idempotencyKey: string): string {
  const mac = createHmac('sha256', secret).update(`idempotency-key\n${actorId}\n${idempotencyKey}`, 'utf8').digest();
  mac[6] = (mac[6] & 0x0f) | 0x80;
  mac[8] = (mac[8] & 0x3f) | 0x80;
  const hex = mac.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
