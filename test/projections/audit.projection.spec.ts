import { auditProjection } from '../../projections/audit.projection';
import { ARTICLE_EVENT_TYPES } from '../../src/newsroom/article/article.decider';
import { SOURCE_EVENT_TYPES } from '../../src/newsroom/source/source.decider';
import { toProjectedEvent } from '../../src/projection-runner/log-pages';
import { ModelHarness, StreamBuilder, modelHarness } from '../support/projection-harness';
import { Newsroom, writeScenario } from '../support/newsroom';
import { ReadSideDb, eventually, readSideDb } from '../support/read-side';

describe('audit projection', () => {
  let rs: ReadSideDb;
  let m: ModelHarness;

  beforeAll(async () => {
    rs = await readSideDb();
  });
  afterAll(async () => {
    await rs.close();
  });
  beforeEach(async () => {
    m = await modelHarness(rs.pool, auditProjection);
  });
  afterEach(async () => {
    await m.drop();
  });

  it('applies every article and source event type, and any other (catch-all)', () => {
    expect([...auditProjection.types].sort()).toEqual([...ARTICLE_EVENT_TYPES, ...SOURCE_EVENT_TYPES].sort());
    expect(auditProjection.catchAll).toBe(true);
  });

  it.each([...ARTICLE_EVENT_TYPES, ...SOURCE_EVENT_TYPES])('%s becomes one entry with stream, revision, position, actor, time, reason, data and ids', async (type) => {
    const s = type.startsWith('Source') ? StreamBuilder.source() : StreamBuilder.article();
    const data = { some: 'data', nested: { n: 1 } };
    const event = s.event(type, data, { reason: 'because', correlationId: 'corr-9', causationId: 'cause-9' });
    await m.given(event);
    expect(await m.rows('SELECT * FROM {entries}')).toEqual([
      {
        position: event.position,
        event_id: event.id,
        stream_id: s.streamId,
        revision: 0,
        type,
        actor_id: 'reporter-1',
        actor_name: 'Rita Reporter',
        actor_roles: ['reporter'],
        occurred_at: event.metadata.occurredAt,
        occurred_at_ts: new Date(event.metadata.occurredAt!),
        reason: 'because',
        data,
        command_id: event.metadata.commandId,
        correlation_id: 'corr-9',
        causation_id: 'cause-9',
      },
    ]);
  });

  it('records every event of the real log exactly once, in log order', async () => {
    const { last } = await writeScenario(new Newsroom(rs.store), 1);
    // $all shows an append once every transaction that began before it has ended, on the whole shared server.
    const events = await eventually(
      () => rs.store.readAll({ maxCount: 10_000 }),
      (read) => read.some((e) => e.position === last.position),
    );
    await m.given(...events.map(toProjectedEvent));
    const rows = await m.rows<{ position: string; type: string; reason: string | null }>('SELECT position, type, reason FROM {entries} ORDER BY position');
    expect(rows.map((r) => [r.position, r.type])).toEqual(events.map((e) => [e.position, e.type]));
    expect(rows.filter((r) => r.reason !== null).map((r) => [r.type, r.reason])).toEqual([['QuoteWithdrawn', 'Cut from the story']]);
  });
});
