import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Provider, Type } from '@nestjs/common';
import { Pool } from 'pg';
import { Runtime } from '../app/runtime';
import { EVENT_STORE, EventStore } from '../event-store/event-store';
import { PG_POOL } from '../http/idempotency.interceptor';
import { DISTRIBUTION_CONFIG, DistributionController } from './distribution.controller';
import { Metrics } from '../metrics/metrics';
import { WebhookDeliverer } from './webhooks/deliverer';
import { WebhookEvents } from './webhooks/webhook-events';
import { WEBHOOK_EVENTS, WebhooksController } from './webhooks/webhooks.controller';

/*
 * Distribution: ninjs and ClaimReview (folded from the log), and webhook delivery (a subscriber of the
 * log of its own, beside the projection runner). AppModule spreads these lists into its own.
 */

export const DISTRIBUTION_CONTROLLERS: Type<unknown>[] = [DistributionController, WebhooksController];

/** Starts webhook delivery with the application (it competes for the delivery lock) and stops it on shutdown. */
@Injectable()
export class WebhookDeliveryLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(WebhookDeliverer) private readonly deliverer: WebhookDeliverer) {}

  onApplicationBootstrap(): void {
    this.deliverer.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.deliverer.stop();
  }
}

export function distributionProviders(runtime: Pick<Runtime, 'config' | 'databaseUrl'>): Provider[] {
  return [
    { provide: DISTRIBUTION_CONFIG, useValue: runtime.config },
    { provide: WEBHOOK_EVENTS, inject: [EVENT_STORE], useFactory: (store: EventStore) => new WebhookEvents(store) },
    {
      provide: WebhookDeliverer,
      inject: [EVENT_STORE, PG_POOL, WEBHOOK_EVENTS, Metrics],
      useFactory: (store: EventStore, pool: Pool, events: WebhookEvents, metrics: Metrics) =>
        new WebhookDeliverer({
          store,
          pool,
          databaseUrl: runtime.databaseUrl,
          settings: runtime.config.webhooks,
          publicUrl: runtime.config.publicUrl,
          events,
          logger: new Logger('Webhooks'),
          onAttempt: (outcome) => metrics.webhookDelivery(outcome),
        }),
    },
    WebhookDeliveryLifecycle,
  ];
}
