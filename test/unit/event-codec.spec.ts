import { schemaVersionOf, toDomainEvent } from '../../src/newsroom/event-codec';

describe('event codec (upcasting)', () => {
  it('writes TopicTagged at version 2 and other types at version 1', () => {
    expect(schemaVersionOf('TopicTagged')).toBe(2);
    expect(schemaVersionOf('ArticleDrafted')).toBe(1);
  });

  it('upcasts a version-1 TopicTagged (label only) to the current shape', () => {
    const event = toDomainEvent({ type: 'TopicTagged', data: { label: 'Climate  Change / COP30' }, metadata: { schemaVersion: 1 } });
    expect(event).toEqual({ type: 'TopicTagged', data: { slug: 'climate-change-cop30', label: 'Climate  Change / COP30' } });
  });

  it('treats an event without schemaVersion as version 1 and leaves current events alone', () => {
    expect(toDomainEvent({ type: 'TopicTagged', data: { label: 'Energy' }, metadata: {} }).data).toEqual({ slug: 'energy', label: 'Energy' });
    const current = { slug: 'kept-as-stored', label: 'Energy' };
    expect(toDomainEvent({ type: 'TopicTagged', data: current, metadata: { schemaVersion: 2 } }).data).toBe(current);
    const other = { headline: 'H' };
    expect(toDomainEvent({ type: 'ArticleDrafted', data: other, metadata: { schemaVersion: 1 } }).data).toBe(other);
  });
});
