import { sourcesProjection } from '../../projections/sources.projection';
import { ModelHarness, StreamBuilder, modelHarness } from '../support/projection-harness';
import { ReadSideDb, readSideDb } from '../support/read-side';

describe('sources projection', () => {
  let rs: ReadSideDb;
  let m: ModelHarness;

  beforeAll(async () => {
    rs = await readSideDb();
  });
  afterAll(async () => {
    await rs.close();
  });
  beforeEach(async () => {
    m = await modelHarness(rs.pool, sourcesProjection);
  });
  afterEach(async () => {
    await m.drop();
  });

  const registered = (s: StreamBuilder, name = 'Jane Doe') =>
    s.event('SourceRegistered', { sourceId: s.id, name, kind: 'person', title: 'Engineer', organization: null });

  it('SourceRegistered adds the source at its stream revision', async () => {
    const s = StreamBuilder.source();
    await m.given(registered(s));
    expect(await m.rows('SELECT id, name, kind, title, organization, revision FROM {sources}')).toEqual([
      { id: s.id, name: 'Jane Doe', kind: 'person', title: 'Engineer', organization: null, revision: 0 },
    ]);
  });

  it('SourceUpdated changes only the fields it carries (title may become null) and moves the revision', async () => {
    const s = StreamBuilder.source();
    await m.given(registered(s), s.event('SourceUpdated', { organization: 'Bridge Works' }));
    expect(await m.rows('SELECT name, title, organization, revision FROM {sources}')).toEqual([
      { name: 'Jane Doe', title: 'Engineer', organization: 'Bridge Works', revision: 1 },
    ]);
    await m.given(s.event('SourceUpdated', { name: 'Jane Q. Doe', title: null }));
    expect(await m.rows('SELECT name, title, organization, revision FROM {sources}')).toEqual([
      { name: 'Jane Q. Doe', title: null, organization: 'Bridge Works', revision: 2 },
    ]);
  });

  it('a second registration moves only the revision; an update of an unknown source changes nothing', async () => {
    const s = StreamBuilder.source();
    const other = StreamBuilder.source();
    await m.given(registered(s), s.event('SourceRegistered', { sourceId: s.id, name: 'Someone Else', kind: 'organization', title: null, organization: null }));
    await m.given(other.event('SourceUpdated', { name: 'Nobody' }));
    expect(await m.rows('SELECT id, name, kind, title, revision FROM {sources}')).toEqual([{ id: s.id, name: 'Jane Doe', kind: 'person', title: 'Engineer', revision: 1 }]);
  });

  it('refuses a registration without a name, even when a later event in the batch would name it (the runner marks the projection failed there)', async () => {
    const s = StreamBuilder.source();
    await expect(m.given(s.event('SourceRegistered', { sourceId: s.id, kind: 'person' }), s.event('SourceUpdated', { name: 'Jane' }))).rejects.toThrow(
      /SourceRegistered at \d+ has no string name/,
    );
    expect(await m.rows('SELECT id FROM {sources}')).toEqual([]);
  });
});
