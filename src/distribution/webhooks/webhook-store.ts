import { Pool, PoolClient } from 'pg';


/*
 * The webhook tables (migration 009-webhooks). Subscriptions are recorded twice, on purpose: their
 * changes are events in the log (`webhook-<id>`: WebhookSubscribed, WebhookUnsubscribed,
 * WebhookDisabled; who and when, for the audit trail, never the secret), and this table keeps what
 * delivery needs that must not be in an append-only, widely readable log: the secret, and the
 * delivery checkpoint and state, which change with every delivery.
 */

export const WEBHOOKS_SCHEMA = `
CREATE TABLE webhook_subscriptions (
  id            uuid PRIMARY KEY,
  url           text NOT NULL,
  events        text[] NOT NULL,
  description   text,
  secret        text NOT NULL,
  created_at    timestamptz NOT NULL,
  created_by    text NOT NULL,
  deleted_at    timestamptz,
  position      numeric NOT NULL,
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'failing', 'disabled')),
  last_error    text,
  failing_since timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE webhook_deliveries (
  subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  position        numeric NOT NULL,
  event_id        uuid NOT NULL,
  event_type      text NOT NULL,
  stream_id       text NOT NULL,
  attempts        integer NOT NULL,
  status          text NOT NULL CHECK (status IN ('delivered', 'retrying', 'failed')),
  response_status integer,
  last_error      text,
  delivered_at    timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscription_id, position)
);
`;

/** NOTIFY channel: a subscription was made or deleted (the deliverer looks at the table again). */
export const WEBHOOKS_CHANNEL = 'copydesk_webhooks';

export type SubscriptionStatus = 'active' | 'failing' | 'disabled';

export interface SubscriptionRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  secret: string;
  createdAt: Date;
  createdBy: string;
  deletedAt: Date | null;
  position: string;
  status: SubscriptionStatus;
  lastError: string | null;
  failingSince: Date | null;
}

export interface DeliveryRow {
  eventId: string;
  eventType: string;
  streamId: string;
  position: string;
  attempts: number;
  status: 'delivered' | 'retrying' | 'failed';
  responseStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}

const SUBSCRIPTION_COLUMNS = `id, url, events, description, secret, created_at AS "createdAt", created_by AS "createdBy", deleted_at AS "deletedAt",
  position::text AS position, status, last_error AS "lastError", failing_since AS "failingSince"`;

type Queryable = Pool | PoolClient;

export async function insertSubscription(
  db: Queryable,
  row: Pick<SubscriptionRow, 'id' | 'url' | 'events' | 'description' | 'secret' | 'createdAt' | 'createdBy' | 'position'>,
): Promise<SubscriptionRow> {
  await db.query(
    `INSERT INTO webhook_subscriptions (id, url, events, description, secret, created_at, created_by, position)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
    [row.id, row.url, row.events, row.description, row.secret, row.createdAt, row.createdBy, row.position],
  );
  await db.query('SELECT pg_notify($1, $2)', [WEBHOOKS_CHANNEL, row.id]);
  return (await findSubscription(db, row.id, true))!;
}

export async function findSubscription(db: Queryable, id: string, includeDeleted = false): Promise<SubscriptionRow | null> {
  const { rows } = await db.query<SubscriptionRow>(
    `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1 ${includeDeleted ? '' : 'AND deleted_at IS NULL'}`,
    [id],
  );
  return rows[0] ?? null;
}

/** Newest first, after the cursor (a created_at, id pair). */
export async function listSubscriptions(db: Queryable, limit: number, after: { createdAt: string; id: string } | null): Promise<SubscriptionRow[]> {
  const { rows } = await db.query<SubscriptionRow>(
    `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions
     WHERE deleted_at IS NULL AND ($1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid))
     ORDER BY webhook_subscriptions.created_at DESC, webhook_subscriptions.id DESC LIMIT $3`,
    [after?.createdAt ?? null, after?.id ?? null, limit],
  );
  return rows;
}

/** The subscriptions a deliverer should be running: not deleted, not disabled. */
export async function deliverableSubscriptions(db: Queryable): Promise<SubscriptionRow[]> {
  const { rows } = await db.query<SubscriptionRow>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE deleted_at IS NULL AND status <> 'disabled'`);
  return rows;
}

export async function markDeleted(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE webhook_subscriptions SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL`, [id]);
  await db.query('SELECT pg_notify($1, $2)', [WEBHOOKS_CHANNEL, id]);
}

/** Newest first (highest position), before the cursor position. */
export async function listDeliveries(db: Queryable, id: string, limit: number, before: string | null): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    // Qualified: ORDER BY a bare \`position\` would sort the text output column (a 9-digit position after a 10-digit one).
    `SELECT event_id AS "eventId", event_type AS "eventType", stream_id AS "streamId", d.position::text AS position, attempts, status,
            response_status AS "responseStatus", last_error AS "lastError", to_char(delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "deliveredAt"
     FROM webhook_deliveries d WHERE d.subscription_id = $1 AND ($2::numeric IS NULL OR d.position < $2::numeric)
     ORDER BY d.position DESC LIMIT $3`,
    [id, before, limit],
  );
  return rows;
}

export async function deliveryAttempts(db: Queryable, id: string, position: string): Promise<number> {
  const { rows } = await db.query<{ attempts: number }>('SELECT attempts FROM webhook_deliveries WHERE subscription_id = $1 AND position = $2', [id, position]);
  return rows[0]?.attempts ?? 0;
}

export interface AttemptOutcome {
  subscriptionId: string;
  event: { id: string; type: string; streamId: string; position: string };
  attempts: number;
  status: DeliveryRow['status'];
  responseStatus: number | null;
  error: string | null;
  /** The subscription's state after this attempt. */
  subscriptionStatus: SubscriptionStatus;
  failingSince: Date | null;
}

/**
 * Records an attempt and the subscription's state in one statement (one transaction): a delivered
 * event moves the checkpoint past it, so it is never sent again unless the process dies before this
 * commits.
 */
export async function recordAttempt(db: Queryable, o: AttemptOutcome): Promise<void> {
  await db.query(
    `WITH delivery AS (
       INSERT INTO webhook_deliveries (subscription_id, position, event_id, event_type, stream_id, attempts, status, response_status, last_error, delivered_at)
       VALUES ($1, $6::numeric, $7, $8, $9, $10, $11, $12, $13, CASE WHEN $5 THEN now() END)
       ON CONFLICT (subscription_id, position) DO UPDATE SET attempts = EXCLUDED.attempts, status = EXCLUDED.status,
         response_status = EXCLUDED.response_status, last_error = EXCLUDED.last_error, delivered_at = EXCLUDED.delivered_at, updated_at = now()
       RETURNING 1
     )
     UPDATE webhook_subscriptions SET status = $2, last_error = $3, failing_since = $4, updated_at = now(),
       position = CASE WHEN $5 AND position < $6::numeric THEN $6::numeric ELSE position END
     WHERE id = $1 AND EXISTS (SELECT 1 FROM delivery)`,
    [
      o.subscriptionId,
      o.subscriptionStatus,
      o.status === 'delivered' ? null : o.error,
      o.failingSince,
      o.status === 'delivered',
      o.event.position,
      o.event.id,
      o.event.type,
      o.event.streamId,
      o.attempts,
      o.status,
      o.responseStatus,
      o.error,
    ],
  );
}

/** Events the subscription does not want: the checkpoint moves past them without a delivery. */
export async function advanceCheckpoint(db: Queryable, id: string, position: string): Promise<void> {
  await db.query(`UPDATE webhook_subscriptions SET position = $2::numeric, updated_at = now() WHERE id = $1 AND position < $2::numeric`, [id, position]);
}
