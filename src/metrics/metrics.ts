import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DomainError } from '../newsroom/domain-error';

/** How a command ended: API.md's `copydesk_commands_total{outcome}`. */
export type CommandOutcome = 'ok' | 'rejected' | 'conflict' | 'error';
/** How one webhook delivery attempt ended. */
/** A webhook attempt: answered 2xx; failed (it will be tried again); or the last, after which the subscription is disabled. */
export type WebhookDeliveryOutcome = 'delivered' | 'failed' | 'disabled';

export const PROJECTION_STATES = ['running', 'rebuilding', 'failed', 'stopped'] as const;

/** One projection as the gauges show it; `lagSeconds` is how long the oldest event it has not applied has waited. */
export interface ProjectionSample {
  name: string;
  position: string | null;
  lagEvents: number;
  lagSeconds: number;
  status: (typeof PROJECTION_STATES)[number];
}

/** Where the projection gauges come from at scrape time (the same numbers `GET /admin/projections` shows). */
export type ProjectionSampler = () => Promise<ProjectionSample[]>;

/** Label value of requests no route matched: one label, never the raw path. */
export const UNMATCHED_ROUTE = '(unmatched)';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** Seconds: from a fast in-process command to a write stuck behind a lock. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A command's outcome from what its execution threw (or `undefined`: it answered). */
export function commandOutcome(error?: unknown): CommandOutcome {
  if (error === undefined) return 'ok';
  // If-Match named a revision the aggregate has moved past (the executor's RevisionMismatchError).
  if (error instanceof Error && error.name === 'RevisionMismatchError') return 'conflict';
  if (error instanceof DomainError) return error.type === 'concurrency-conflict' ? 'conflict' : 'rejected';
  return 'error';
}

/**
 * The application's Prometheus metrics (API.md, "Operations"), in a registry of its own (one per
 * application, so that several in one process never mix). Disabled (`METRICS=off`), every record
 * is a no-op and nothing is registered: the benchmark compares the two.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly commands?: Counter<'command' | 'outcome'>;
  private readonly commandSeconds?: Histogram<'command'>;
  private readonly httpSeconds?: Histogram<'method' | 'route' | 'status'>;
  private readonly appendSeconds?: Histogram<'store'>;
  private readonly webhookDeliveries?: Counter<'outcome'>;
  private sampler?: ProjectionSampler;

  constructor(readonly enabled = true) {
    if (!enabled) return;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.commands = new Counter({ name: 'copydesk_commands_total', help: 'Commands executed, by command and outcome (ok, rejected by a domain rule, conflict, error).', labelNames: ['command', 'outcome'], registers });
    this.commandSeconds = new Histogram({ name: 'copydesk_command_duration_seconds', help: 'Time to load, decide and append a command.', labelNames: ['command'], buckets: LATENCY_BUCKETS, registers });
    this.httpSeconds = new Histogram({
      name: 'copydesk_http_request_duration_seconds',
      help: `HTTP requests by method, route template (${UNMATCHED_ROUTE} when no route matched) and status.`,
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.appendSeconds = new Histogram({ name: 'copydesk_event_store_append_duration_seconds', help: 'Appends to the event store, by store (postgres or eventstoredb).', labelNames: ['store'], buckets: LATENCY_BUCKETS, registers });
    this.webhookDeliveries = new Counter({ name: 'copydesk_webhook_deliveries_total', help: 'Webhook delivery attempts, by outcome.', labelNames: ['outcome'], registers });
    const sample = this.projectionSamples();
    new Gauge({
      name: 'copydesk_projection_position',
      help: "The projection's checkpoint: the global position of the last event it applied (0 before the first).",
      labelNames: ['projection'],
      registers,
      async collect() {
        this.reset();
        for (const p of await sample()) this.set({ projection: p.name }, Number(p.position ?? 0));
      },
    });
    new Gauge({
      name: 'copydesk_projection_lag_events',
      help: 'Events in the log the projection has not applied yet.',
      labelNames: ['projection'],
      registers,
      async collect() {
        this.reset();
        for (const p of await sample()) this.set({ projection: p.name }, p.lagEvents);
      },
    });
    new Gauge({
      name: 'copydesk_projection_lag_seconds',
      help: 'How long the oldest event the projection has not applied has been in the log (0 when caught up).',
      labelNames: ['projection'],
      registers,
      async collect() {
        this.reset();
        for (const p of await sample()) this.set({ projection: p.name }, p.lagSeconds);
      },
    });
    new Gauge({
      name: 'copydesk_projection_status',
      help: 'The projection status: 1 for the current one of running, rebuilding, failed, stopped.',
      labelNames: ['projection', 'status'],
      registers,
      async collect() {
        this.reset();
        for (const p of await sample()) for (const status of PROJECTION_STATES) this.set({ projection: p.name, status }, p.status === status ? 1 : 0);
      },
    });
  }

  /** Where the projection gauges read from; until set, they have no samples. */
  sampleProjectionsWith(sampler: ProjectionSampler): void {
    this.sampler = sampler;
  }

  /**
   * One read of the projections per scrape, shared by the four gauges (prom-client collects them one
   * after the other). A scrape whose read fails shows no projection samples rather than failing whole.
   */
  private projectionSamples(): () => Promise<ProjectionSample[]> {
    let current: { at: number; samples: Promise<ProjectionSample[]> } | undefined;
    return () => {
      if (!this.sampler) return Promise.resolve([]);
      if (!current || Date.now() - current.at > 250) current = { at: Date.now(), samples: this.sampler().catch(() => []) };
      return current.samples;
    };
  }

  command(command: string, outcome: CommandOutcome, seconds: number): void {
    if (!this.commands) return;
    this.commands.inc({ command, outcome });
    this.commandSeconds!.observe({ command }, seconds);
  }

  /** `route`: the route's template (`/articles/:id`), undefined when no route matched. */
  httpRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    this.httpSeconds?.observe({ method: METHODS.has(method) ? method : 'OTHER', route: route ?? UNMATCHED_ROUTE, status: String(status) }, seconds);
  }

  append(store: string, seconds: number): void {
    this.appendSeconds?.observe({ store }, seconds);
  }

  /** One webhook delivery attempt ended so (for the webhook deliverer). */
  webhookDelivery(outcome: WebhookDeliveryOutcome): void {
    this.webhookDeliveries?.inc({ outcome });
  }

  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Seconds since `started` (a `performance.now()` reading). */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}
