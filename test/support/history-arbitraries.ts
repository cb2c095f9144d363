import fc from 'fast-check';
import type { EventMetadata } from '../../projections/projection';

/*
 * The small world the projections' property specs write random histories in: a few articles (the last
 * one never drafted), sources, quotes, claims and sentences, and the metadata an event may carry.
 */

/** Articles 0–2 may be drafted; article 3 never is. */
export const ARTICLES = ['0b6f3e3f-8a4d-4e9a-890d-4f1c2b3a4100', '0b6f3e3f-8a4d-4e9a-890d-4f1c2b3a4101', '0b6f3e3f-8a4d-4e9a-890d-4f1c2b3a4102', '0b6f3e3f-8a4d-4e9a-890d-4f1c2b3a4103'];
export const SOURCES = ['5a1e0d20-0000-4000-8000-0000000000a1', '5a1e0d20-0000-4000-8000-0000000000a2', '5a1e0d20-0000-4000-8000-0000000000a3'];
export const QUOTES = ['c5a1e0d2-0000-4000-8000-000000000001', 'c5a1e0d2-0000-4000-8000-000000000002', 'c5a1e0d2-0000-4000-8000-000000000003'];
export const CLAIMS = ['c1a1e0d2-0000-4000-8000-000000000011', 'c1a1e0d2-0000-4000-8000-000000000012'];
export const SENTENCES = ['The bridge reopens on Monday.', 'Traffic will be "light" at first.', 'Officials expect delays.', 'Residents welcomed the news.'];

/** Who and when: one of two people or nobody named; a time, or one that does not parse. */
export const eventMetadata: fc.Arbitrary<EventMetadata> = fc.record(
  {
    actor: fc.oneof(
      fc.constant<EventMetadata['actor']>({ id: 'rita', name: 'Rita Reporter', roles: ['reporter'] }),
      fc.constant<EventMetadata['actor']>({ id: 'carl', name: 'Carl Checker', roles: ['fact_checker'] }),
      fc.constant<EventMetadata['actor']>({}),
    ),
    occurredAt: fc.oneof(
      fc.integer({ min: 0, max: 10_000 }).map((s) => new Date(Date.UTC(2024, 4, 1) + s * 1000).toISOString()),
      fc.constant('not a date'),
    ),
  },
  { requiredKeys: [] },
);
