import { EventEmitter } from 'node:events';
import { Pool } from 'pg';
import { ProjectedEvent, Projection } from '../../projections/projection';
import { EventStore, comparePositions } from '../event-store/event-store';
import { BatchResult, Phase, applyBatch, oneAtATimeWarning } from './apply-batch';
import { LiveEvents, LogPages } from './log-pages';

export type LeaveReason =
  /** Its signal was aborted (stopped, or something changed: the worker looks at its status row again). */
  | 'left'
  /** The status row no longer matches what it was fed for (a newer version, another build). */
  | 'stale'
  /** Rebuild only: the build has reached the head read when it started; time to swap. */
  | 'caught-up';

export interface FeedSettings {
  batchSize: number;
  /**
   * Live only: while behind, the log is read in pages of this many events (one transaction each)
   * before the subscription takes over; at most `batchSize` skips that.
   */
  catchUpBatchSize?: number;
  /**
   * Live only: after a batch smaller than `batchSize`, wait this long before reading the next, so
   * that events arriving meanwhile share a transaction (fewer statements and commits per event
   * under load, at most this much more lag when idle). 0: read again at once.
   */
  lingerMs?: number;
  onBatchCommitted?: (projection: string, phase: Phase, events: ProjectedEvent[]) => void;
  /** Where a batch that failed as a whole but applied one event at a time is reported. */
  logger?: { warn(message: string): void };
}

interface Member {
  projection: Projection;
  /** Its checkpoint: where it joined, then the end of what it applied (null: from the first event). */
  from: string | null;
  buildSchema: string | null;
  /** Rebuild: full batches applied past the build's target. */
  extra: number;
  /** Asked to leave while a batch including it was in flight: it leaves when the batch is done. */
  leaving: LeaveReason | null;
  /** Rebuild: what its projection holds in memory between batches (see Held), and for how many events now. */
  held: Map<string, unknown> | null;
  heldEvents: number;
  /** The last event applied into what is held (null: nothing held). */
  heldThrough: string | null;
  /** Rebuild: the head read when its build started, once a batch has told (undefined: not yet). */
  target: string | null | undefined;
  settle(outcome: { reason: LeaveReason } | { error: unknown }): void;
}

/** Once a build has reached the head read at its start, at most this many more full batches before the swap. */
const MAX_EXTRA_BATCHES = 20;

/**
 * A build writes what its projection holds in memory at least this often (in events): its checkpoint
 * moves then, and a crash costs reading at most this many events again.
 */
const HOLD_AT_MOST_EVENTS = 50_000;

/**
 * One reader of the log for every projection of this process in a phase: the live tables (large
 * pages while behind, then a subscription to $all that goes live: see LiveEvents) or rebuilds
 * (pages of $all up to its end, the next read while the current one is applied). Each batch is read and decoded once and applied by
 * `applyBatch`: live, to every member in one transaction; rebuilds, each build in a transaction of
 * its own, side by side (a build's checkpoint is its own anyway, and PostgreSQL works on several
 * while this process prepares the next page). A member whose handler fails leaves with the error
 * (recorded in its status row); the others go on.
 *
 * A member joining behind what the feed has read makes it start again from the lowest checkpoint;
 * members ahead skip what they have. When the last member leaves, the reader is closed, and the
 * loop ends once its read in flight has come back: `idle()` waits for that.
 */
export class Feed {
  private readonly members = new Map<string, Member>();
  private loop: Promise<void> | null = null;
  /** Everything after this position will still be handed to the members (null: from the first event). */
  private delivered: string | null = null;
  private restart = false;
  private source: { close(): Promise<void> } | null = null;
  private applying = false;

  constructor(
    readonly phase: Phase,
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly settings: FeedSettings,
    private readonly progress: EventEmitter,
  ) {}

  /**
   * Feeds `projection` from its checkpoint `from` until it leaves: resolves with the reason, rejects
   * with a ProjectionHandlerError (its failure was recorded) or a store/connection error. Never
   * settles while a batch that includes it is in flight, so once settled it applies nothing more.
   */
  follow(projection: Projection, from: string | null, options: { signal: AbortSignal; buildSchema?: string }): Promise<LeaveReason> {
    const { name } = projection;
    if (this.members.has(name)) throw new Error(`${name} already follows the ${this.phase} feed`);
    if (options.signal.aborted) return Promise.resolve('left');
    return new Promise<LeaveReason>((resolve, reject) => {
      const onAbort = () => {
        if (this.applying) member.leaving ??= 'left';
        else member.settle({ reason: 'left' });
      };
      const member: Member = {
        projection,
        from,
        buildSchema: options.buildSchema ?? null,
        extra: 0,
        leaving: null,
        held: this.phase === 'rebuild' ? new Map() : null,
        heldEvents: 0,
        heldThrough: null,
        target: undefined,
        settle: (outcome) => {
          if (this.members.get(name) !== member) return;
          this.members.delete(name);
          options.signal.removeEventListener('abort', onAbort);
          if (this.members.size === 0) void this.source?.close();
          if ('error' in outcome) reject(outcome.error);
          else resolve(outcome.reason);
        },
      };
      this.members.set(name, member);
      options.signal.addEventListener('abort', onAbort, { once: true });
      // Behind what has been read: read again from the lowest checkpoint.
      if (this.loop && this.delivered !== null && (from === null || comparePositions(from, this.delivered) < 0)) {
        this.restart = true;
        void this.source?.close();
      }
      this.loop ??= this.run();
    });
  }

  /** Resolves once the loop has ended (no members left, their reads in flight come back). */
  async idle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  private async run(): Promise<void> {
    // No await between the loop's last check and clearing `loop`: a member joining meanwhile starts a new one.
    while (this.members.size > 0) {
      this.restart = false;
      const from = lowest([...this.members.values()].map((m) => m.from));
      this.delivered = from;
      // Neither reads anything before it is iterated (inside the try below).
      const { batchSize, catchUpBatchSize } = this.settings;
      const source = this.phase === 'live' ? new LiveEvents(this.store, from, catchUpBatchSize ?? batchSize, batchSize) : new LogPages(this.store, from, batchSize);
      this.source = source;
      try {
        for await (const events of source) {
          if (this.restart || this.members.size === 0) break;
          await this.deliver(events);
          if (this.restart || this.members.size === 0) break;
          const linger = this.settings.lingerMs ?? 0;
          if (this.phase === 'live' && linger > 0 && events.length < this.settings.batchSize) await new Promise((resolve) => setTimeout(resolve, linger));
        }
        // The end of the log: every build still here is as far as it can get before its swap.
        if (this.phase === 'rebuild' && !this.restart) this.settleAll({ reason: 'caught-up' });
      } catch (error) {
        // The store or the read-model database failed: every member leaves with it and retries.
        this.settleAll({ error });
      } finally {
        this.source = null;
        await source.close().catch(() => undefined);
      }
    }
    this.loop = null;
  }

  private settleAll(outcome: { reason: LeaveReason } | { error: unknown }): void {
    for (const member of [...this.members.values()]) member.settle(outcome);
  }

  /** Applies one batch to the members (see applyBatch), then lets go of those that are done. */
  private async deliver(events: ProjectedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const members = [...this.members.values()].filter((m) => m.leaving === null);
    // A member joining from before the end of this batch (which it will not be part of) needs a restart.
    this.delivered = events[events.length - 1].position;
    const last = events[events.length - 1].position;
    const batchMember = (m: Member) => ({
      projection: m.projection,
      buildSchema: m.buildSchema,
      // What it holds is written at the end of the log, past the build's target, and every so often.
      held: m.held && {
        documents: m.held,
        flush: events.length < this.settings.batchSize || m.heldEvents + events.length >= HOLD_AT_MOST_EVENTS || m.target === undefined || isCaughtUp(last, m.target),
        through: m.heldThrough,
      },
    });
    const groups = this.phase === 'live' ? [members.map(batchMember)] : members.map((m) => [batchMember(m)]);
    let results: BatchResult[];
    this.applying = true;
    try {
      // allSettled: a failed group must not let the others' transactions run on after this returns.
      const settled = await Promise.allSettled(groups.filter((g) => g.length > 0).map((group) => applyBatch(this.pool, this.phase, group, events)));
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      results = settled.map((r) => (r as PromiseFulfilledResult<BatchResult>).value);
    } finally {
      this.applying = false;
    }
    for (const result of results) {
      for (const checkpoint of result.checkpoints) {
        const member = this.members.get(checkpoint.name);
        if (!member) continue;
        member.from = checkpoint.position;
        member.target = checkpoint.target;
        const holding = (member.held?.size ?? 0) > 0;
        member.heldEvents = holding ? member.heldEvents + checkpoint.applied.length : 0;
        member.heldThrough = holding ? (checkpoint.applied.at(-1)?.position ?? member.heldThrough) : null;
        if (checkpoint.applied.length > 0) {
          this.progress.emit('progress', checkpoint.name);
          this.settings.onBatchCommitted?.(checkpoint.name, this.phase, checkpoint.applied);
        }
        if (this.phase === 'rebuild' && isCaughtUp(checkpoint.position, checkpoint.target) && (events.length < this.settings.batchSize || ++member.extra > MAX_EXTRA_BATCHES)) {
          member.leaving = 'caught-up';
        }
      }
      for (const { name, events: count } of result.appliedOneAtATime) {
        this.settings.logger?.warn(oneAtATimeWarning(name, count));
      }
      for (const error of result.failures) this.members.get(error.projection)?.settle({ error });
      for (const name of result.stale) this.members.get(name)?.settle({ reason: 'stale' });
    }
    for (const member of [...this.members.values()]) {
      if (member.leaving) member.settle({ reason: member.leaving });
    }
  }
}

function isCaughtUp(position: string | null, target: string | null): boolean {
  return target === null || (position !== null && comparePositions(position, target) >= 0);
}

function lowest(positions: (string | null)[]): string | null {
  let low: string | null | undefined;
  for (const p of positions) {
    if (p === null) return null;
    if (low === undefined || comparePositions(p, low!) < 0) low = p;
  }
  return low ?? null;
}
