import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { EVENT_STORE, EventStore } from '../event-store/event-store';
import { GetProjectionStatuses } from '../read-store/queries/projections.queries';
import { Metrics, ProjectionSample } from './metrics';

/**
 * Feeds the projection gauges at scrape time from the statuses `GET /admin/projections` answers
 * (the same query, so the two never disagree), adding how long the oldest event a projection has not
 * applied has been waiting: the store's timestamp of the first event after its checkpoint.
 */
@Injectable()
export class ProjectionMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly queries: QueryBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  onModuleInit(): void {
    if (this.metrics.enabled) this.metrics.sampleProjectionsWith(() => this.sample());
  }

  async sample(now = Date.now()): Promise<ProjectionSample[]> {
    const { value } = await this.queries.execute(new GetProjectionStatuses());
    // Projections at one checkpoint (the usual case) wait on the same event: read it once.
    const oldest = new Map<string, Promise<number>>();
    const waitingSince = (position: string | null) => {
      const key = position ?? '';
      let at = oldest.get(key);
      if (!at) oldest.set(key, (at = this.store.readAll({ fromPosition: position ?? undefined, maxCount: 1 }).then(([event]) => event?.created.getTime() ?? now)));
      return at;
    };
    return Promise.all(
      value.map(async (p) => ({
        name: p.name,
        position: p.position,
        lagEvents: p.lag,
        lagSeconds: p.lag > 0 ? Math.max(0, now - (await waitingSince(p.position))) / 1000 : 0,
        status: p.status,
      })),
    );
  }
}
