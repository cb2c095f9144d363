import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  ANY,
  AllStreamResolvedEvent,
  BACKWARDS,
  END,
  EventStoreDBClient,
  NO_STREAM,
  Position,
  START,
  STREAM_EXISTS,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
} from '@eventstore/db-client';
import { EsdbTestServer, startEsdbTestServer } from '../support/esdb-test-server';

const events = (n: number, type = 'Happened') =>
  Array.from({ length: n }, (_, i) => jsonEvent({ id: randomUUID(), type, data: { i }, metadata: { by: 'test' } }));

async function readAll(client: EventStoreDBClient, options: Parameters<EventStoreDBClient['readAll']>[0] = {}) {
  const out: AllStreamResolvedEvent[] = [];
  for await (const e of client.readAll(options)) out.push(e);
  return out;
}

async function readStream(client: EventStoreDBClient, stream: string, options: Parameters<EventStoreDBClient['readStream']>[1] = {}) {
  const out = [];
  for await (const e of client.readStream(stream, options)) out.push(e.event!);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

const pos = (p: Position | undefined) => p!.commit;

/** Both append paths: BatchAppend (advertised, as EventStoreDB >= 21.10 does) and the Append fallback. */
describe.each([
  ['BatchAppend advertised', true],
  ['BatchAppend not advertised', false],
])('esdb test server with the real client (%s)', (_label, advertiseBatchAppend) => {
  let server: EsdbTestServer;
  let client: EventStoreDBClient;
  const stream = () => `s-${randomUUID()}`;

  beforeAll(async () => {
    server = await startEsdbTestServer({ advertiseBatchAppend });
    client = EventStoreDBClient.connectionString(server.connectionString);
  });
  afterAll(async () => {
    await client.dispose();
    await server.stop();
  });

  it(`appends through ${advertiseBatchAppend ? 'BatchAppend' : 'Append'}`, async () => {
    await client.appendToStream(stream(), events(1));
    expect(server.stats.calls[advertiseBatchAppend ? 'BatchAppend' : 'Append']).toBeGreaterThan(0);
    expect(server.stats.calls[advertiseBatchAppend ? 'Append' : 'BatchAppend']).toBeUndefined();
  });

  it('applies the expected-revision rules', async () => {
    const s = stream();
    const created = await client.appendToStream(s, events(3), { expectedRevision: NO_STREAM });
    expect(created.nextExpectedRevision).toBe(2n);
    expect((await client.appendToStream(s, events(1), { expectedRevision: 2n })).nextExpectedRevision).toBe(3n);
    expect((await client.appendToStream(s, events(2), { expectedRevision: STREAM_EXISTS })).nextExpectedRevision).toBe(5n);
    expect((await client.appendToStream(s, events(1), { expectedRevision: ANY })).nextExpectedRevision).toBe(6n);
    expect((await client.appendToStream(stream(), events(2), { expectedRevision: ANY })).nextExpectedRevision).toBe(1n);
    expect((await readStream(client, s)).map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n]);
  });

  it('answers a revision conflict with WrongExpectedVersionError carrying the actual version', async () => {
    const s = stream();
    await client.appendToStream(s, events(2), { expectedRevision: NO_STREAM });
    const stale = (await rejection(client.appendToStream(s, events(1), { expectedRevision: 0n }))) as WrongExpectedVersionError;
    expect(stale).toBeInstanceOf(WrongExpectedVersionError);
    expect(stale.actualVersion).toBe(1n);
    expect(stale.expectedVersion).toBe(0n);
    const exists = (await rejection(client.appendToStream(s, events(1), { expectedRevision: NO_STREAM }))) as WrongExpectedVersionError;
    expect(exists.actualVersion).toBe(1n);
    expect(exists.expectedVersion).toBe('no_stream');
    const ahead = (await rejection(client.appendToStream(s, events(1), { expectedRevision: 5n }))) as WrongExpectedVersionError;
    expect(ahead.actualVersion).toBe(1n);
    const missing = (await rejection(client.appendToStream(stream(), events(1), { expectedRevision: STREAM_EXISTS }))) as WrongExpectedVersionError;
    expect(missing).toBeInstanceOf(WrongExpectedVersionError);
    expect(missing.actualVersion).toBe('no_stream');
    expect(missing.expectedVersion).toBe('stream_exists');
    const missingAt = (await rejection(client.appendToStream(stream(), events(1), { expectedRevision: 0n }))) as WrongExpectedVersionError;
    expect(missingAt.actualVersion).toBe('no_stream');
    expect(await readStream(client, s)).toHaveLength(2);
  });

  it('re-appending stored event ids at the expected place succeeds with the original result and writes nothing', async () => {
    const s = stream();
    const batch = events(3);
    const first = await client.appendToStream(s, batch, { expectedRevision: NO_STREAM });
    const allBefore = (await readAll(client)).length;
    const again = await client.appendToStream(s, batch, { expectedRevision: NO_STREAM });
    expect(again).toEqual(first);
    expect(await client.appendToStream(s, batch, { expectedRevision: ANY })).toEqual(first);
    // The tail of the batch at its own place is idempotent too, answering its last event.
    expect(await client.appendToStream(s, batch.slice(1), { expectedRevision: 0n })).toEqual(first);
    expect((await readAll(client)).length).toBe(allBefore);
    expect(await readStream(client, s)).toHaveLength(3);
    // Known ids followed by a new one: "corrupted idempotency", answered as a version conflict.
    const mixed = (await rejection(client.appendToStream(s, [batch[0], ...events(1)], { expectedRevision: NO_STREAM }))) as WrongExpectedVersionError;
    expect(mixed).toBeInstanceOf(WrongExpectedVersionError);
    expect(mixed.actualVersion).toBe(2n);
    // The same ids at the current revision are not a replay: EventStoreDB appends them again.
    expect((await client.appendToStream(s, batch.slice(0, 1), { expectedRevision: 2n })).nextExpectedRevision).toBe(3n);
  });

  it('reads: StreamNotFoundError for a missing stream, forwards from a revision, backwards, maxCount', async () => {
    const missing = await rejection(readStream(client, stream()));
    expect(missing).toBeInstanceOf(StreamNotFoundError);
    const s = stream();
    await client.appendToStream(s, events(5), { expectedRevision: NO_STREAM });
    expect((await readStream(client, s, { fromRevision: 2n })).map((e) => e.revision)).toEqual([2n, 3n, 4n]);
    expect((await readStream(client, s, { fromRevision: 1n, maxCount: 2 })).map((e) => e.revision)).toEqual([1n, 2n]);
    expect((await readStream(client, s, { direction: BACKWARDS, fromRevision: END })).map((e) => e.revision)).toEqual([4n, 3n, 2n, 1n, 0n]);
    expect((await readStream(client, s, { direction: BACKWARDS, fromRevision: 3n, maxCount: 2 })).map((e) => e.revision)).toEqual([3n, 2n]);
    expect(await readStream(client, s, { fromRevision: 10n })).toEqual([]);
    const [first] = await readStream(client, s, { maxCount: 1 });
    expect(first).toMatchObject({ streamId: s, type: 'Happened', data: { i: 0 }, metadata: { by: 'test' }, isJson: true });
    expect(first.created).toBeInstanceOf(Date);
    expect(Math.abs(first.created.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('gives every event of a multi-event append its own growing $all position; the append answers the last', async () => {
    const s = stream();
    const result = await client.appendToStream(s, events(3), { expectedRevision: NO_STREAM });
    const stored = await readStream(client, s);
    const positions = stored.map((e) => e.position!);
    expect(positions[0].commit).toBeLessThan(positions[1].commit);
    expect(positions[1].commit).toBeLessThan(positions[2].commit);
    for (const p of positions) expect(p.prepare).toBe(p.commit);
    expect(result.position).toEqual(positions[2]);
    const next = await client.appendToStream(stream(), events(1));
    expect(next.position!.commit).toBeGreaterThan(positions[2].commit);
    const all = await readAll(client);
    for (let i = 1; i < all.length; i++) expect(pos(all[i].event!.position)).toBeGreaterThan(pos(all[i - 1].event!.position));
    expect(all.filter((e) => e.event!.streamId === s).map((e) => e.event!.position)).toEqual(positions);
  });

  it('$all: reads forwards inclusive of a position, backwards exclusive of it, from END, with maxCount', async () => {
    const s = stream();
    await client.appendToStream(s, events(4), { expectedRevision: NO_STREAM });
    const mine = (await readAll(client)).filter((e) => e.event!.streamId === s);
    const second = mine[1].event!.position!;
    const forwards = await readAll(client, { fromPosition: second, maxCount: 2 });
    expect(forwards.map((e) => e.event!.revision)).toEqual([1n, 2n]);
    const backwards = await readAll(client, { fromPosition: second, direction: BACKWARDS, maxCount: 1 });
    expect(backwards.map((e) => e.event!.revision)).toEqual([0n]);
    const [last] = await readAll(client, { fromPosition: END, direction: BACKWARDS, maxCount: 1 });
    expect(last.event!.id).toBe(mine[3].event!.id);
    expect(await readAll(client, { fromPosition: END, maxCount: 5 })).toEqual([]);
  });

  it('$all holds system events; the excludeSystemEvents() filter leaves them out', async () => {
    const all = await readAll(client);
    expect(all.some((e) => e.event!.type === '$epoch-information')).toBe(true);
    const s = stream();
    await client.appendToStream(s, events(2), { expectedRevision: NO_STREAM });
    const seen: AllStreamResolvedEvent[] = [];
    const subscription = client.subscribeToAll({ fromPosition: START, filter: excludeSystemEvents() });
    for await (const e of subscription) {
      seen.push(e);
      if (e.event!.streamId === s && e.event!.revision === 1n) break;
    }
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.some((e) => e.event!.type.startsWith('$'))).toBe(false);
  });

  it('applies stream-name prefix and event-type regex filters, and sends checkpoints', async () => {
    const prefix = `pfx-${randomUUID()}`;
    await client.appendToStream(`${prefix}-a`, events(2, 'Kept'), { expectedRevision: NO_STREAM });
    await client.appendToStream(stream(), events(40, 'Noise'));
    await client.appendToStream(`${prefix}-b`, events(1, 'Dropped'), { expectedRevision: NO_STREAM });
    const checkpoints: Position[] = [];
    const byName = client.subscribeToAll({
      fromPosition: START,
      filter: streamNameFilter({ prefixes: [prefix], checkpointInterval: 1, checkpointReached: (_s, p) => void checkpoints.push(p) }),
    });
    const names: string[] = [];
    for await (const e of byName) {
      names.push(`${e.event!.streamId}:${e.event!.revision}`);
      if (names.length === 3) break;
    }
    expect(names).toEqual([`${prefix}-a:0`, `${prefix}-a:1`, `${prefix}-b:0`]);
    // 40 filtered-out events lie between them: more than one checkpoint window (32) was considered.
    expect(checkpoints.length).toBeGreaterThan(0);
    const byType = client.subscribeToAll({ fromPosition: START, filter: eventTypeFilter({ regex: '^Kep' }) });
    const types: string[] = [];
    for await (const e of byType) {
      if (e.event!.streamId.startsWith(prefix)) types.push(e.event!.type);
      if (types.length === 2) break;
    }
    expect(types).toEqual(['Kept', 'Kept']);
  });

  it('a catch-up subscription starts after (exclusive of) its position, reports caught-up, then delivers live events', async () => {
    const s = stream();
    await client.appendToStream(s, events(3), { expectedRevision: NO_STREAM });
    const stored = await readStream(client, s);
    const order: string[] = [];
    const subscription = client.subscribeToAll({ fromPosition: stored[0].position!, filter: excludeSystemEvents() });
    subscription.on('confirmation', () => order.push('confirmation'));
    subscription.on('caughtUp', () => {
      order.push('caughtUp');
      void client.appendToStream(s, events(2), { expectedRevision: 2n });
    });
    for await (const e of subscription) {
      if (e.event!.streamId !== s) continue;
      order.push(`event ${e.event!.revision}`);
      if (e.event!.revision === 4n) break;
    }
    expect(order).toEqual(['confirmation', 'event 1', 'event 2', 'caughtUp', 'event 3', 'event 4']);
  });

  it('a stream subscription from a revision is exclusive of it, then goes live', async () => {
    const s = stream();
    await client.appendToStream(s, events(3), { expectedRevision: NO_STREAM });
    const subscription = client.subscribeToStream(s, { fromRevision: 1n });
    subscription.on('caughtUp', () => void client.appendToStream(s, events(1), { expectedRevision: 2n }));
    const seen: bigint[] = [];
    for await (const e of subscription) {
      seen.push(e.event!.revision);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([2n, 3n]);
  });

  it('soft delete hides a stream until it is written again; a tombstone deletes it for good', async () => {
    const s = stream();
    await client.appendToStream(s, events(2), { expectedRevision: NO_STREAM });
    await client.deleteStream(s);
    expect(await rejection(readStream(client, s))).toBeInstanceOf(StreamNotFoundError);
    expect((await client.appendToStream(s, events(1), { expectedRevision: NO_STREAM })).nextExpectedRevision).toBe(2n);
    expect((await readStream(client, s)).map((e) => e.revision)).toEqual([2n]);
    const t = stream();
    await client.appendToStream(t, events(1), { expectedRevision: NO_STREAM });
    await client.tombstoneStream(t);
    expect(await rejection(readStream(client, t))).toBeInstanceOf(StreamDeletedError);
    expect(await rejection(client.appendToStream(t, events(1)))).toBeInstanceOf(StreamDeletedError);
  });
});

describe('esdb test server: several clients, outages, standalone', () => {
  it('serves concurrent clients; each subscriber sees every append in one global order', async () => {
    const server = await startEsdbTestServer();
    const a = EventStoreDBClient.connectionString(server.connectionString);
    const b = EventStoreDBClient.connectionString(server.connectionString);
    try {
      const prefix = `c-${randomUUID()}`;
      const total = 2 * 20;
      const tail = async (client: EventStoreDBClient) => {
        const ids: string[] = [];
        for await (const e of client.subscribeToAll({ fromPosition: START, filter: streamNameFilter({ prefixes: [prefix] }) })) {
          ids.push(e.event!.id);
          if (ids.length === total) break;
        }
        return ids;
      };
      const tails = [tail(a), tail(b)];
      await Promise.all(
        [a, b].map(async (client, n) => {
          for (let i = 0; i < 20; i++) {
            await client.appendToStream(`${prefix}-${n}`, events(1), { expectedRevision: i === 0 ? NO_STREAM : BigInt(i - 1) });
          }
        }),
      );
      const [seenByA, seenByB] = await Promise.all(tails);
      expect(seenByA).toHaveLength(total);
      expect(seenByB).toEqual(seenByA);
      const written = (await readAll(a)).filter((e) => e.event!.streamId.startsWith(prefix)).map((e) => e.event!.id);
      expect(seenByA).toEqual(written);
    } finally {
      await a.dispose();
      await b.dispose();
      await server.stop();
    }
  });

  it('stops and restarts on the same port; the data survives when the store is passed back', async () => {
    const first = await startEsdbTestServer();
    const client = EventStoreDBClient.connectionString(first.connectionString);
    try {
      const s = `r-${randomUUID()}`;
      await client.appendToStream(s, events(2), { expectedRevision: NO_STREAM });
      await first.stop();
      const down = await rejection(client.appendToStream(s, events(1)));
      expect((down as { code?: number }).code).toBe(14); // UNAVAILABLE
      const second = await startEsdbTestServer({ port: first.port, store: first.store });
      try {
        expect(second.port).toBe(first.port);
        // The same client instance reconnects by itself.
        expect((await client.appendToStream(s, events(1), { expectedRevision: 1n })).nextExpectedRevision).toBe(2n);
        expect(await readStream(client, s)).toHaveLength(3);
        // Each start writes a new epoch: two `$epoch-information` events now.
        expect((await readStream(client, '$epoch-information')).length).toBe(2);
      } finally {
        await second.stop();
      }
      const fresh = await startEsdbTestServer({ port: first.port });
      try {
        expect(await rejection(readStream(client, s))).toBeInstanceOf(StreamNotFoundError);
      } finally {
        await fresh.stop();
      }
    } finally {
      await client.dispose();
    }
  });

  it('runs standalone from main.ts and prints the port it listens on', async () => {
    const main = join(__dirname, '..', 'support', 'esdb-test-server', 'main.ts');
    const child: ChildProcess = spawn(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', main, '--port', '0'], {
      cwd: join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /esdb-test-server listening on 127\.0\.0\.1:(\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      expect(port).toBeGreaterThan(0);
      const client = EventStoreDBClient.connectionString(`esdb://127.0.0.1:${port}?tls=false`);
      try {
        const result = await client.appendToStream('standalone', events(1), { expectedRevision: NO_STREAM });
        expect(result.nextExpectedRevision).toBe(0n);
      } finally {
        await client.dispose();
      }
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
