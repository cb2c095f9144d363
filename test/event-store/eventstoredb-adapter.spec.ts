import { randomUUID } from 'node:crypto';
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import {
  AllSubscription,
  NewEvent,
  RecordedEvent,
  StoreUnavailableError,
  WrongExpectedVersionError,
  comparePositions,
} from '../../src/event-store/event-store';
import { EventStoreDbEventStore } from '../../src/event-store/eventstoredb.event-store';
import { EsdbTestServer, startEsdbTestServer } from '../support/esdb-test-server';

const newEvents = (n: number, type = 'Happened'): NewEvent[] =>
  Array.from({ length: n }, (_, i) => ({ id: randomUUID(), type, data: { i, text: 'ünïcödé “quotes”' }, metadata: { actor: 'u1' } }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries an expectation until it holds or `ms` passed (server-side effects of a cancel take a moment). */
async function eventually(assertion: () => void, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      assertion();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await sleep(20);
    }
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/**
 * Pulls batches until `count` events of `stream` arrived (or 10 s passed); `onBatch` may slow the
 * consumer down. `reached(n)` resolves once `n` have arrived: the subscription is live past them.
 */
function take(subscription: AllSubscription, stream: string, count: number, onBatch?: (batch: RecordedEvent[]) => Promise<void>) {
  const seen: RecordedEvent[] = [];
  const batches: RecordedEvent[][] = [];
  const waiting: { n: number; resolve: () => void }[] = [];
  const done = (async () => {
    const deadline = setTimeout(() => void subscription.close(), 10_000);
    for await (const batch of subscription) {
      batches.push(batch);
      seen.push(...batch.filter((e) => e.streamId === stream));
      for (const w of waiting.filter((w) => seen.length >= w.n)) w.resolve();
      if (onBatch) await onBatch(batch);
      if (seen.length >= count) break;
    }
    clearTimeout(deadline);
    // Ended short of a count someone waits for: let them go on to the assertions that say so.
    for (const w of waiting) w.resolve();
    return { seen, batches };
  })();
  const reached = (n: number) => (seen.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ n, resolve })));
  return { done, reached };
}

describe('EventStoreDbEventStore on the EventStoreDB test server', () => {
  let server: EsdbTestServer;
  let store: EventStoreDbEventStore;
  const stream = () => `adapter-${randomUUID()}`;

  beforeAll(async () => {
    server = await startEsdbTestServer();
    store = new EventStoreDbEventStore(server.connectionString, { reconnectDelayMs: { initial: 50, max: 500 } });
  });
  afterAll(async () => {
    await store.close();
    await server.stop();
  });

  it('is the eventstoredb kind and answers ping', async () => {
    expect(store.kind).toBe('eventstoredb');
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('appends and reads back a stream, with an inclusive revision range', async () => {
    const s = stream();
    const events = newEvents(4);
    const result = await store.appendToStream(s, events, { expectedRevision: 'no_stream' });
    expect(result.nextExpectedRevision).toBe(3);
    expect(result.position).toMatch(/^\d+$/);
    const read = await store.readStream(s);
    expect(read.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(read[0]).toMatchObject({ streamId: s, type: 'Happened', revision: 0, data: events[0].data, metadata: { actor: 'u1' } });
    expect(read[0].created).toBeInstanceOf(Date);
    expect(read[3].position).toBe(result.position);
    for (let i = 1; i < read.length; i++) expect(comparePositions(read[i].position, read[i - 1].position)).toBe(1);
    expect((await store.readStream(s, { fromRevision: 1, toRevision: 2 })).map((e) => e.revision)).toEqual([1, 2]);
    expect((await store.readStream(s, { fromRevision: 2 })).map((e) => e.revision)).toEqual([2, 3]);
    expect(await store.readStream(s, { fromRevision: 3, toRevision: 2 })).toEqual([]);
    expect(await store.readStream(stream())).toEqual([]);
    await expect(store.appendToStream(s, [], { expectedRevision: 'any' })).rejects.toThrow(/at least one event/);
  });

  it('maps version conflicts to the port WrongExpectedVersionError with the actual revision', async () => {
    const s = stream();
    await store.appendToStream(s, newEvents(2), { expectedRevision: 'no_stream' });
    const stale = await rejection(store.appendToStream(s, newEvents(1), { expectedRevision: 0 }));
    expect(stale).toBeInstanceOf(WrongExpectedVersionError);
    expect(stale).toMatchObject({ streamId: s, expected: 0, actual: 1 });
    const missing = await rejection(store.appendToStream(stream(), newEvents(1), { expectedRevision: 'stream_exists' }));
    expect(missing).toMatchObject({ expected: 'stream_exists', actual: 'no_stream' });
    expect((await store.appendToStream(s, newEvents(1), { expectedRevision: 'stream_exists' })).nextExpectedRevision).toBe(2);
  });

  it('answers an idempotent re-append like the original one', async () => {
    const s = stream();
    const events = newEvents(2);
    const first = await store.appendToStream(s, events, { expectedRevision: 'no_stream' });
    expect(await store.appendToStream(s, events, { expectedRevision: 'no_stream' })).toEqual(first);
    expect(await store.readStream(s)).toHaveLength(2);
  });

  it('reads $all exclusive of fromPosition, without system events, up to maxCount', async () => {
    const head = await store.headPosition();
    const a = stream();
    await store.appendToStream(a, newEvents(3), { expectedRevision: 'no_stream' });
    // A system event in the middle of $all, as EventStoreDB writes them.
    const esdb = EventStoreDBClient.connectionString(server.connectionString);
    await esdb.appendToStream('$system-noise', jsonEvent({ type: '$noise', data: {} }));
    await esdb.dispose();
    await store.appendToStream(a, newEvents(2), { expectedRevision: 2 });
    const page = await store.readAll({ fromPosition: head ?? undefined, maxCount: 100 });
    expect(page.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
    expect(page.every((e) => !e.type.startsWith('$'))).toBe(true);
    const afterFirst = await store.readAll({ fromPosition: page[0].position, maxCount: 2 });
    expect(afterFirst.map((e) => e.revision)).toEqual([1, 2]);
    // Skips the system event between revisions 2 and 3 and still fills the page.
    const acrossNoise = await store.readAll({ fromPosition: page[1].position, maxCount: 2 });
    expect(acrossNoise.map((e) => e.revision)).toEqual([2, 3]);
    expect(await store.readAll({ fromPosition: page[4].position, maxCount: 10 })).toEqual([]);
    expect(await store.headPosition()).toBe(page[4].position);
  });

  it('subscribes to $all: catches up exclusive of fromPosition, then delivers live appends in batches', async () => {
    const s = stream();
    await store.appendToStream(s, newEvents(3), { expectedRevision: 'no_stream' });
    const stored = await store.readStream(s);
    const subscription = store.subscribeToAll({ fromPosition: stored[0].position, maxBatchSize: 10 });
    const pending = take(subscription, s, 2 + 30, async () => {
      await sleep(30); // a busy consumer: events pile up and come as bigger batches
    });
    await pending.reached(2);
    for (let i = 0; i < 30; i++) await store.appendToStream(s, newEvents(1), { expectedRevision: 2 + i });
    const { seen, batches } = await pending.done;
    await subscription.close();
    expect(seen.map((e) => e.revision)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(10);
    expect(batches.flat().every((e) => !e.type.startsWith('$'))).toBe(true);
  });

  it('close() ends the iteration and releases the subscription on the server', async () => {
    await eventually(() => expect(server.stats.openSubscriptions).toBe(0)); // earlier tests' are gone
    const subscription = store.subscribeToAll({});
    const iterating = (async () => {
      for await (const batch of subscription) expect(Array.isArray(batch)).toBe(true);
      return 'ended';
    })();
    await eventually(() => expect(server.stats.openSubscriptions).toBe(1));
    await subscription.close();
    expect(await iterating).toBe('ended');
    await eventually(() => expect(server.stats.openSubscriptions).toBe(0));
  });
});

describe('EventStoreDbEventStore through an outage', () => {
  it('fails fast with StoreUnavailableError while the server is down and resumes the subscription without loss or duplicates', async () => {
    let server = await startEsdbTestServer();
    const port = server.port;
    const store = new EventStoreDbEventStore(server.connectionString, { reconnectDelayMs: { initial: 50, max: 400 } });
    const s = `outage-${randomUUID()}`;
    try {
      await store.appendToStream(s, newEvents(5), { expectedRevision: 'no_stream' });
      const subscription = store.subscribeToAll({ maxBatchSize: 4 });
      const pending = take(subscription, s, 5 + 5 + 5);
      await pending.reached(5);

      await server.stop();
      for (const operation of [
        () => store.appendToStream(s, newEvents(1), { expectedRevision: 4 }),
        () => store.readStream(s),
        () => store.readAll({ maxCount: 10 }),
        () => store.headPosition(),
        () => store.ping(),
      ]) {
        const started = Date.now();
        const error = await rejection(operation());
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect((error as StoreUnavailableError).store).toBe('eventStore');
        expect(Date.now() - started).toBeLessThan(3000);
      }
      // Events this client cannot see yet (as if written through another node): the subscription,
      // retrying with back-off meanwhile, must catch them up from where it stopped, not from "end".
      const missed = server.store.append(
        s,
        4n,
        newEvents(3).map((e) => ({ eventId: e.id, type: e.type, isJson: true, data: Buffer.from(JSON.stringify(e.data)), metadata: Buffer.alloc(0) })),
      );
      expect(missed.kind).toBe('success');
      await sleep(700);

      server = await startEsdbTestServer({ port, store: server.store });
      const other = new EventStoreDbEventStore(server.connectionString);
      await other.appendToStream(s, newEvents(2), { expectedRevision: 7 });
      await other.close();
      // Resubscribed and caught up (the missed events and the other client's), so the next ones come live.
      await pending.reached(10);
      // The subscription is back; unary calls share the client's channel, which may still be in its
      // reconnect back-off for a moment: a client retries, as ours would.
      for (const deadline = Date.now() + 10_000; ; ) {
        const error = await store.ping().then(() => null, (e: unknown) => e);
        if (!error || Date.now() > deadline) break;
        await sleep(100);
      }
      await store.appendToStream(s, newEvents(5), { expectedRevision: 9 });

      const { seen } = await pending.done;
      await subscription.close();
      expect(seen.map((e) => e.revision)).toEqual(Array.from({ length: 15 }, (_, i) => i));
      expect(new Set(seen.map((e) => e.id)).size).toBe(15);
      // The restart wrote a `$epoch-information` system event; head skips it.
      expect(await store.headPosition()).toBe(seen[14].position);
    } finally {
      await store.close();
      await server.stop();
    }
  }, 30_000);

  it('reports StoreUnavailableError for a server that was never there', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const store = new EventStoreDbEventStore(`esdb://127.0.0.1:${port}?tls=false`);
    try {
      const started = Date.now();
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.appendToStream('x', newEvents(1), { expectedRevision: 'any' })).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await store.close();
    }
  });

  it('ping gives up on a server that accepts connections but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const store = new EventStoreDbEventStore(`esdb://127.0.0.1:${port}?tls=false`, { pingTimeoutMs: 800 });
    try {
      const started = Date.now();
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
