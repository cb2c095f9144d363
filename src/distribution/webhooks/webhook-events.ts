import { randomUUID } from 'node:crypto';
import { EventStore, WrongExpectedVersionError } from '../../event-store/event-store';
import { CommandContext } from '../../newsroom/command-context';
import { commandEventId, sealEvents } from '../../newsroom/command-executor';

export const webhookStream = (id: string): string => `webhook-${id}`;

/** Who disables a subscription that kept failing: the server itself. */
export const DELIVERY_ACTOR = { id: 'copydesk', name: 'Copydesk webhook delivery', roles: [] };

/**
 * Subscription changes as events in the log, `webhook-<id>`: the audit projection (which records
 * every event) shows who subscribed, who deleted, and when delivery gave up. They name where
 * deliveries go by origin only (scheme, host, port): a URL's path or query may itself be a secret
 * (many services put a token there), and the audit trail is readable by every role. Never the secret.
 */
export class WebhookEvents {
  constructor(private readonly store: EventStore) {}

  subscribed(context: CommandContext, id: string, subscription: { url: string; events: string[]; description: string | null }) {
    return this.append(context, id, 'WebhookSubscribed', {
      webhookId: id,
      destination: new URL(subscription.url).origin,
      events: subscription.events,
      description: subscription.description,
    });
  }

  unsubscribed(context: CommandContext, id: string) {
    return this.append(context, id, 'WebhookUnsubscribed', { webhookId: id });
  }

  async disabled(id: string, failingSince: Date, lastError: string | null): Promise<void> {
    const commandId = randomUUID();
    const context: CommandContext = { actor: DELIVERY_ACTOR as never, commandId, freshCommandId: true, correlationId: commandId, causationId: commandId, now: new Date().toISOString() };
    await this.append(context, id, 'WebhookDisabled', { webhookId: id, failingSince: failingSince.toISOString(), lastError }, 'failing for longer than the subscription may');
  }

  /** Appends one event sealed into the stream's hash chain; a retried command (same id) finds its event instead. */
  private async append(context: CommandContext, id: string, type: string, data: Record<string, unknown>, reason?: string): Promise<{ revision: number; position: string }> {
    const stream = webhookStream(id);
    for (let attempt = 0; ; attempt++) {
      const existing = context.freshCommandId ? null : await this.store.findEvent(stream, commandEventId(context.commandId, stream, 0));
      if (existing) return { revision: existing.revision, position: existing.position };
      const events = await this.store.readStream(stream);
      const last = events.length ? events[events.length - 1] : null;
      const sealed = sealEvents(stream, last ? { revision: last.revision, metadata: last.metadata } : null, [{ type, data }], context, reason);
      try {
        const result = await this.store.appendToStream(stream, sealed, { expectedRevision: last ? last.revision : 'no_stream' });
        return { revision: result.nextExpectedRevision, position: result.position };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError) || attempt >= 5) throw error;
      }
    }
  }
}
