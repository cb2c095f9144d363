import { randomUUID } from 'node:crypto';
import { EventStore, NewEvent, RecordedEvent, WrongExpectedVersionError, comparePositions } from '../../src/event-store/event-store';

export interface ContractSetup {
  store: EventStore;
  teardown: () => Promise<void>;
}

function newEvents(count: number, type = 'Happened'): NewEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    type,
    data: { i, text: 'Quote with ’typographic’ characters — and “marks”…' },
    metadata: { actor: { id: 'u1', name: 'Ada', roles: ['reporter'] }, schemaVersion: 1 },
  }));
}

async function expectWrongVersion(promise: Promise<unknown>, actual: number | 'no_stream'): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WrongExpectedVersionError);
  expect((error as WrongExpectedVersionError).actual).toBe(actual);
}

/**
 * Collects events of the given streams from a subscription until `count` arrived or the time is up;
 * `onSeen` hears how many have arrived after each batch.
 */
async function collect(store: EventStore, fromPosition: string | undefined, streams: Set<string>, count: number, ms = 10000, onSeen?: (n: number) => void) {
  const subscription = store.subscribeToAll({ fromPosition, maxBatchSize: 50 });
  const seen: RecordedEvent[] = [];
  const timer = setTimeout(() => void subscription.close(), ms);
  for await (const batch of subscription) {
    for (const event of batch) if (streams.has(event.streamId)) seen.push(event);
    onSeen?.(seen.length);
    if (seen.length >= count) break;
  }
  clearTimeout(timer);
  await subscription.close();
  return seen;
}

/**
 * The behaviour every EventStore adapter must share, after EventStoreDB's own semantics.
 * Streams are unique per test, so the suite runs on a store that already holds other events.
 */
export function eventStoreContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let teardown: () => Promise<void>;
    const stream = () => `contract-${randomUUID()}`;

    beforeAll(async () => {
      ({ store, teardown } = await setup());
    });
    afterAll(async () => {
      await teardown();
    });

    describe('expected revision', () => {
      it('no_stream creates the stream at revision n-1 and refuses an existing one', async () => {
        const s = stream();
        const first = await store.appendToStream(s, newEvents(3), { expectedRevision: 'no_stream' });
        expect(first.nextExpectedRevision).toBe(2);
        expect(first.position).toMatch(/^\d+$/);
        await expectWrongVersion(store.appendToStream(s, newEvents(1), { expectedRevision: 'no_stream' }), 2);
        expect(await store.readStream(s)).toHaveLength(3);
      });

      it('a number appends only when it is the last revision, and reports the actual one otherwise', async () => {
        const s = stream();
        await store.appendToStream(s, newEvents(2), { expectedRevision: 'no_stream' });
        const next = await store.appendToStream(s, newEvents(1), { expectedRevision: 1 });
        expect(next.nextExpectedRevision).toBe(2);
        await expectWrongVersion(store.appendToStream(s, newEvents(1), { expectedRevision: 1 }), 2);
        await expectWrongVersion(store.appendToStream(s, newEvents(1), { expectedRevision: 7 }), 2);
        await expectWrongVersion(store.appendToStream(stream(), newEvents(1), { expectedRevision: 0 }), 'no_stream');
        expect((await store.readStream(s)).map((e) => e.revision)).toEqual([0, 1, 2]);
      });

      it('stream_exists refuses a missing stream and appends to an existing one', async () => {
        const s = stream();
        await expectWrongVersion(store.appendToStream(s, newEvents(1), { expectedRevision: 'stream_exists' }), 'no_stream');
        await store.appendToStream(s, newEvents(1), { expectedRevision: 'no_stream' });
        const result = await store.appendToStream(s, newEvents(2), { expectedRevision: 'stream_exists' });
        expect(result.nextExpectedRevision).toBe(2);
      });

      it('any appends whatever the state', async () => {
        const s = stream();
        expect((await store.appendToStream(s, newEvents(1), { expectedRevision: 'any' })).nextExpectedRevision).toBe(0);
        expect((await store.appendToStream(s, newEvents(2), { expectedRevision: 'any' })).nextExpectedRevision).toBe(2);
      });
    });

    describe('racing appends on one stream', () => {
      /** `racers` appends of 1..3 events at once, each expecting `expected`; what each did. */
      async function race(s: string, expected: number | 'no_stream', racers: number) {
        const batches = Array.from({ length: racers }, (_, i) => newEvents(1 + (i % 3)));
        const outcomes = await Promise.allSettled(batches.map((events) => store.appendToStream(s, events, { expectedRevision: expected })));
        return outcomes.map((outcome, i) => ({ outcome, events: batches[i] }));
      }

      it.each([
        ['the same revision', 2 as const],
        ['no_stream', 'no_stream' as const],
      ])('at %s: exactly one succeeds, the others get WrongExpectedVersionError with the winner\'s revision; no gap, no duplicate (10 rounds)', async (_name, expected) => {
        for (let round = 0; round < 10; round++) {
          const s = stream();
          const before = expected === 'no_stream' ? [] : newEvents(3);
          if (before.length) await store.appendToStream(s, before, { expectedRevision: 'no_stream' });
          const results = await race(s, expected, 12);
          const won = results.filter((r) => r.outcome.status === 'fulfilled');
          expect({ round, winners: won.length }).toEqual({ round, winners: 1 });
          const head = before.length - 1 + won[0].events.length;
          expect((won[0].outcome as PromiseFulfilledResult<{ nextExpectedRevision: number }>).value.nextExpectedRevision).toBe(head);
          for (const lost of results.filter((r) => r.outcome.status === 'rejected')) {
            const error = (lost.outcome as PromiseRejectedResult).reason;
            expect(error).toBeInstanceOf(WrongExpectedVersionError);
            expect((error as WrongExpectedVersionError).actual).toBe(head);
          }
          const stored = await store.readStream(s);
          expect(stored.map((e) => e.revision)).toEqual(Array.from({ length: head + 1 }, (_, i) => i));
          expect(stored.map((e) => e.id)).toEqual([...before, ...won[0].events].map((e) => e.id));
        }
      });
    });

    describe('idempotency', () => {
      it('re-appending the same event ids at the same place writes nothing and answers as before', async () => {
        const s = stream();
        const events = newEvents(2);
        const first = await store.appendToStream(s, events, { expectedRevision: 'no_stream' });
        const again = await store.appendToStream(s, events, { expectedRevision: 'no_stream' });
        expect(again).toEqual(first);
        const viaAny = await store.appendToStream(s, events, { expectedRevision: 'any' });
        expect(viaAny.nextExpectedRevision).toBe(first.nextExpectedRevision);
        expect(await store.readStream(s)).toHaveLength(2);
        const later = await store.appendToStream(s, newEvents(1), { expectedRevision: 1 });
        expect(later.nextExpectedRevision).toBe(2);
      });
    });

    describe('reading a stream', () => {
      it('reads an unknown stream as empty', async () => {
        expect(await store.readStream(stream())).toEqual([]);
      });

      it('returns events in revision order with their data, metadata and positions, within an inclusive range', async () => {
        const s = stream();
        const events = newEvents(5);
        await store.appendToStream(s, events, { expectedRevision: 'no_stream' });
        const all = await store.readStream(s);
        expect(all.map((e) => e.id)).toEqual(events.map((e) => e.id));
        expect(all.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
        expect(all[0]).toMatchObject({ streamId: s, type: 'Happened', data: events[0].data, metadata: events[0].metadata });
        expect(all[0].created).toBeInstanceOf(Date);
        for (let i = 1; i < all.length; i++) expect(comparePositions(all[i].position, all[i - 1].position)).toBe(1);
        const middle = await store.readStream(s, { fromRevision: 1, toRevision: 3 });
        expect(middle.map((e) => e.revision)).toEqual([1, 2, 3]);
        expect(await store.readStream(s, { fromRevision: 9 })).toEqual([]);
      });
    });

    describe('finding an event by id', () => {
      it('finds an event of the stream by its id wherever it lies, as readStream returns it', async () => {
        const s = stream();
        // More than one page of the EventStoreDB adapter's backwards scan (500), in two appends.
        const events = newEvents(700);
        await store.appendToStream(s, events.slice(0, 350), { expectedRevision: 'no_stream' });
        await store.appendToStream(s, events.slice(350), { expectedRevision: 349 });
        const stored = await store.readStream(s);
        for (const revision of [0, 1, 199, 200, 499, 500, 699]) {
          expect(await store.findEvent(s, events[revision].id)).toEqual(stored[revision]);
        }
      });

      it('answers null for an id that is not in the stream, is in another stream, or names no event', async () => {
        const s = stream();
        const other = stream();
        const [mine] = newEvents(1);
        const [theirs] = newEvents(1);
        await store.appendToStream(s, [mine], { expectedRevision: 'no_stream' });
        await store.appendToStream(other, [theirs], { expectedRevision: 'no_stream' });
        expect(await store.findEvent(s, theirs.id)).toBeNull();
        expect(await store.findEvent(s, randomUUID())).toBeNull();
        expect(await store.findEvent(s, 'not-a-uuid')).toBeNull();
        expect(await store.findEvent(stream(), mine.id)).toBeNull();
        expect(await store.findEvent(other, theirs.id)).toMatchObject({ id: theirs.id, streamId: other, revision: 0 });
      });
    });

    describe('$all', () => {
      it('reads in global order from an exclusive position, with maxCount', async () => {
        const head = (await store.headPosition()) ?? undefined;
        const a = stream();
        const b = stream();
        const first = await store.appendToStream(a, newEvents(2), { expectedRevision: 'no_stream' });
        const second = await store.appendToStream(b, newEvents(1), { expectedRevision: 'no_stream' });
        const third = await store.appendToStream(a, newEvents(1), { expectedRevision: 1 });
        expect(comparePositions(second.position, first.position)).toBe(1);
        expect(comparePositions(third.position, second.position)).toBe(1);
        // On the Postgres log, $all shows an append once no older transaction of the server is still in
        // flight (other tests share the server): wait for that, then read.
        for (const deadline = Date.now() + 10_000; ; await new Promise((resolve) => setTimeout(resolve, 20))) {
          const visible = await store.headPosition();
          if ((visible !== null && comparePositions(visible, third.position) >= 0) || Date.now() > deadline) break;
        }
        const page = (await store.readAll({ fromPosition: head, maxCount: 1000 })).filter((e) => e.streamId === a || e.streamId === b);
        expect(page.map((e) => `${e.streamId === a ? 'a' : 'b'}${e.revision}`)).toEqual(['a0', 'a1', 'b0', 'a2']);
        const afterFirst = await store.readAll({ fromPosition: page[0].position, maxCount: 1 });
        expect(afterFirst).toHaveLength(1);
        expect(afterFirst[0].id).toBe(page[1].id);
        expect(await store.headPosition()).toBe(third.position);
      });

      it('a subscription catches up exclusive of its start, then delivers live appends', async () => {
        const s = stream();
        await store.appendToStream(s, newEvents(3), { expectedRevision: 'no_stream' });
        const stored = await store.readStream(s);
        // The appends wait until the subscription has delivered what was there: they arrive live.
        let caughtUp!: () => void;
        const live = new Promise<void>((resolve) => (caughtUp = resolve));
        const pending = collect(store, stored[0].position, new Set([s]), 4, 10000, (n) => n >= 2 && caughtUp());
        await Promise.race([live, pending]);
        await store.appendToStream(s, newEvents(2), { expectedRevision: 2 });
        const seen = await pending;
        expect(seen.map((e) => e.revision)).toEqual([1, 2, 3, 4]);
      });

      it('never skips or repeats an event while concurrent writers append and a reader tails $all', async () => {
        const head = (await store.headPosition()) ?? undefined;
        const writers = 8;
        const perWriter = 25;
        const streams = Array.from({ length: writers }, stream);
        const tail = collect(store, head, new Set(streams), writers * perWriter, 60000);
        const written: string[] = [];
        await Promise.all(
          streams.map(async (s) => {
            for (let i = 0; i < perWriter; i++) {
              const [event] = newEvents(1);
              await store.appendToStream(s, [event], { expectedRevision: i === 0 ? 'no_stream' : i - 1 });
              written.push(event.id);
            }
          }),
        );
        const seen = await tail;
        expect(seen).toHaveLength(writers * perWriter);
        expect(new Set(seen.map((e) => e.id))).toEqual(new Set(written));
        for (let i = 1; i < seen.length; i++) expect(comparePositions(seen[i].position, seen[i - 1].position)).toBe(1);
        for (const s of streams) {
          expect(seen.filter((e) => e.streamId === s).map((e) => e.revision)).toEqual(Array.from({ length: perWriter }, (_, i) => i));
        }
      });
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
