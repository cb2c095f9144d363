import { ProjectedEvent, streamEntityId } from './projection';
import { RowSet, UnitOfWork, setBasedProjection } from './row-set';

/**
 * `topics`: each topic slug with its label (as first tagged) and how many articles carry it now.
 *
 * Set-based (see row-set.ts): one SELECT for the topics and taggings a batch names, the events
 * applied in memory, one statement for what changed.
 */
export const topicsProjection = setBasedProjection({
  name: 'topics',
  version: 1,
  tables: [
    `CREATE TABLE {topics} (
       slug          text PRIMARY KEY,
       label         text NOT NULL,
       article_count integer NOT NULL
     )`,
    `CREATE TABLE {taggings} (
       slug       text NOT NULL,
       article_id uuid NOT NULL,
       PRIMARY KEY (slug, article_id)
     )`,
  ],
  model,
  handlers: {
    TopicTagged: {
      reads: needTopicAndTagging,
      apply: (event, m) => {
        const { slug, label } = event.data;
        const tagged = m.taggings.insert({ slug, article_id: streamEntityId(event) }, { onConflict: 'nothing' }) ? 1 : 0;
        m.topics.insert(
          { slug, label, article_count: tagged },
          { onConflict: (topic, excluded) => ({ article_count: topic.article_count + excluded.article_count }) },
        );
      },
    },
    TopicUntagged: {
      reads: needTopicAndTagging,
      apply: (event, m) => {
        const { slug } = event.data;
        const untagged = m.taggings.delete({ slug, article_id: streamEntityId(event) }) ? 1 : 0;
        m.topics.update({ slug }, (topic) => ({ article_count: topic.article_count - untagged }));
      },
    },
  },
});

interface TopicRow {
  slug: string;
  label: string;
  article_count: number;
}

interface TaggingRow {
  slug: string;
  article_id: string;
}

interface Model {
  topics: RowSet<TopicRow>;
  taggings: RowSet<TaggingRow>;
}

function model(unit: UnitOfWork): Model {
  return {
    topics: unit.table<TopicRow>('topics', { loadBy: ['slug'] }),
    // Keyed (slug, article_id): loaded by both, never by slug alone (a slug has many articles).
    taggings: unit.table<TaggingRow>('taggings', { loadBy: ['slug', 'article_id'] }),
  };
}

function needTopicAndTagging(event: ProjectedEvent<{ slug: string }>, m: Model): void {
  m.topics.need({ slug: event.data.slug });
  m.taggings.need({ slug: event.data.slug, article_id: streamEntityId(event) });
}
