import { schemaVersionOf, toDomainEvent } from '../../src/newsroom/event-codec';

describe('event codec (upcasting)', () => {
  it('writes TopicTagged and the content events at version 2, other types at version 1', () => {
    expect(schemaVersionOf('TopicTagged')).toBe(2);
    for (const type of ['ArticleDrafted', 'HeadlineChanged', 'BodyRevised', 'QuoteAdded', 'SourceAttributed', 'QuoteWithdrawn', 'ClaimRecorded'])
      expect([type, schemaVersionOf(type)]).toEqual([type, 2]);
    for (const type of ['ClaimVerdictRecorded', 'TopicUntagged', 'ArticleSubmitted', 'ArticleReturnedToDraft', 'CorrectionIssued'])
      expect([type, schemaVersionOf(type)]).toEqual([type, 1]);
  });

  it('upcasts a version-1 content event with its writer taken from the actor in its metadata', () => {
    const metadata = { schemaVersion: 1, actor: { id: 'rita', name: 'Rita', roles: ['reporter'] } };
    expect(toDomainEvent({ type: 'HeadlineChanged', data: { headline: 'H' }, metadata }).data).toEqual({ headline: 'H', by: 'rita' });
    expect(toDomainEvent({ type: 'BodyRevised', data: { body: 'B', returnedToDraft: true }, metadata: { actor: { id: 'ed' } } }).data).toEqual({
      body: 'B',
      returnedToDraft: true,
      by: 'ed',
    });
    // Without an actor id nothing can be said of the writer, and nothing is made up.
    expect(toDomainEvent({ type: 'QuoteWithdrawn', data: { quoteId: 'q', reason: 'r' }, metadata: { schemaVersion: 1 } }).data).toEqual({ quoteId: 'q', reason: 'r' });
    const current = { headline: 'H', by: 'ed' };
    expect(toDomainEvent({ type: 'HeadlineChanged', data: current, metadata: { ...metadata, schemaVersion: 2 } }).data).toBe(current);
  });

  it('upcasts a version-1 TopicTagged (label only) to the current shape', () => {
    const event = toDomainEvent({ type: 'TopicTagged', data: { label: 'Climate  Change / COP30' }, metadata: { schemaVersion: 1 } });
    expect(event).toEqual({ type: 'TopicTagged', data: { slug: 'climate-change-cop30', label: 'Climate  Change / COP30' } });
  });

  it('treats an event without schemaVersion as version 1 and leaves current events alone', () => {
    expect(toDomainEvent({ type: 'TopicTagged', data: { label: 'Energy' }, metadata: {} }).data).toEqual({ slug: 'energy', label: 'Energy' });
    const current = { slug: 'kept-as-stored', label: 'Energy' };
    expect(toDomainEvent({ type: 'TopicTagged', data: current, metadata: { schemaVersion: 2 } }).data).toBe(current);
    const other = { submittedBy: 'rita' };
    expect(toDomainEvent({ type: 'ArticleSubmitted', data: other, metadata: { schemaVersion: 1 } }).data).toBe(other);
  });
});
