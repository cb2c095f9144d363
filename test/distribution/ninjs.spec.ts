import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TestApp } from '../support/app';
import { actors, Actors, BODY, draftSeedArticle } from './session';

/*
 * ninjs 2.2 and ClaimReview over HTTP, for the README's article in every workflow state and at an
 * older revision. Every ninjs document is validated against the official IPTC JSON Schema (2020-12)
 * shipped in docs/specs, with formats (uri, date-time) checked.
 */

const schema = JSON.parse(readFileSync(join(__dirname, '../../docs/specs/ninjs-schema_2.2.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
// The schema refers to the GeoJSON schema for `places[].geometry_geojson`, which Copydesk never fills: a
// stand-in that accepts nothing keeps compilation offline and fails loudly if a document ever had one.
ajv.addSchema({ $id: 'https://geojson.org/schema/GeoJSON.json', not: {} });
const validateNinjs = ajv.compile(schema);

function expectValidNinjs(doc: unknown): void {
  const ok = validateNinjs(doc);
  expect(ok ? [] : validateNinjs.errors).toEqual([]);
}

const PUBLIC_URL = 'https://copy.example.org/newsroom';

describe('distribution documents: ninjs and ClaimReview', () => {
  let t: TestApp;
  let a: Actors;
  let seed: Awaited<ReturnType<typeof draftSeedArticle>>;
  const documents: Record<string, any> = {};
  let retraction: { revision: number };

  beforeAll(async () => {
    t = await startTestApp({ env: { PUBLIC_URL: `${PUBLIC_URL}/`, COPYDESK_ORGANIZATION: 'The Daily Bridge' } });
    a = actors(t);
    seed = await draftSeedArticle(a);
    const ninjs = async () => (await a.reporter('get', `${seed.A}/ninjs`, undefined, 200)).body;
    documents.draft = await ninjs();
    await a.reporter('post', `${seed.A}/submission`, {}, 200);
    documents.in_review = await ninjs();
    await a.editor('post', `${seed.A}/approval`, {}, 200);
    documents.approved = await ninjs();
    await a.editor('post', `${seed.A}/publication`, {}, 200);
    documents.published = await ninjs();
    await a.editor('post', `${seed.A}/corrections`, { text: 'An earlier version misnamed the bridge.' }, 201);
    await a.editor('post', `${seed.A}/corrections`, { text: 'The vote was on Monday.' }, 201);
    documents.corrected = await ninjs();
    retraction = (await a.editor('post', `${seed.A}/retraction`, { reason: 'Wrong bridge' }, 200)).body;
    documents.retracted = await ninjs();
  }, 60_000);
  afterAll(() => t?.close());

  it.each(['draft', 'in_review', 'approved', 'published', 'corrected', 'retracted'])('the article %s is a valid ninjs 2.2 document', (state) => {
    expectValidNinjs(documents[state]);
  });

  it('pubstatus follows the workflow; version is the revision', async () => {
    expect(Object.fromEntries(Object.entries(documents).map(([k, d]) => [k, d.pubstatus]))).toEqual({
      draft: 'withheld',
      in_review: 'withheld',
      approved: 'withheld',
      published: 'usable',
      corrected: 'usable',
      retracted: 'canceled',
    });
    expect(documents.retracted.version).toBe(String(retraction.revision));
    expect(Number(documents.published.version)).toBeLessThan(Number(documents.corrected.version));
  });

  it('maps what Copydesk knows: headline, body with counts, byline, topics, sources by kind, corrections newest first, the ClaimReview link', () => {
    const doc = documents.corrected;
    expect(doc).toMatchObject({
      uri: `urn:copydesk:article:${seed.article}`,
      type: 'text',
      headlines: [{ role: 'main', value: 'Bridge to close' }],
      bodies: [{ role: 'main', contenttype: 'text/plain', value: BODY, charcount: [...BODY].length, wordcount: 30 }],
      by: 'Rita Reporter',
      subjects: [
        { name: 'Local Infrastructure', literal: 'local-infrastructure' },
        { name: 'City Council', literal: 'city-council' },
      ],
      people: [{ name: 'Jane Doe', rel: 'quoted', uri: `urn:copydesk:source:${seed.sources.mayor}` }],
      organisations: [{ name: 'City Hall', rel: 'quoted', uri: `urn:copydesk:source:${seed.sources.hall}` }],
      infosources: [{ name: 'Metro Wire', role: 'wire', uri: `urn:copydesk:source:${seed.sources.wire}` }],
      trustindicators: [{ role: 'https://schema.org/ClaimReview', href: `${PUBLIC_URL}/articles/${seed.article}/claim-reviews` }],
    });
    const lines = doc.ednote.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('The vote was on Monday.');
    expect(lines[1]).toContain('An earlier version misnamed the bridge.');
    expect(documents.published.ednote).toBeUndefined();
    expect(Date.parse(doc.firstcreated)).toBeLessThan(Date.parse(doc.versioncreated));
  });

  it('?revision=N is the article as it stood then, folded from the log, and valid', async () => {
    const zero = (await a.reporter('get', `${seed.A}/ninjs?revision=0`, undefined, 200)).body;
    expectValidNinjs(zero);
    expect(zero).toMatchObject({ version: '0', pubstatus: 'withheld', subjects: [], people: [], organisations: [], infosources: [] });
    expect(zero.firstcreated).toBe(zero.versioncreated);
    const atPublication = Number(documents.published.version);
    const then = (await a.reporter('get', `${seed.A}/ninjs?revision=${atPublication}`, undefined, 200)).body;
    expectValidNinjs(then);
    expect(then).toEqual(documents.published);
    const past = await a.reporter('get', `${seed.A}/ninjs?revision=9999`);
    expect([past.status, past.body.type, past.body.currentRevision]).toEqual([404, 'revision-not-found', Number(documents.retracted.version)]);
    const bad = await a.reporter('get', `${seed.A}/ninjs?revision=first`);
    expect([bad.status, bad.body.type, bad.body.errors]).toEqual([400, 'validation-failed', [expect.objectContaining({ field: 'revision' })]]);
  });

  it('an article without a byline is by whoever drafted it; no article is 404', async () => {
    const id = (await a.editor('post', '/articles', { headline: 'Short', body: 'One line.' }, 201)).body.id;
    const doc = (await a.reporter('get', `/articles/${id}/ninjs`, undefined, 200)).body;
    expectValidNinjs(doc);
    expect(doc.by).toBe('Ed Editor');
    expect((await a.reporter('get', `/articles/${id}/claim-reviews`, undefined, 200)).body).toEqual([]);
    const missing = await a.reporter('get', '/articles/00000000-0000-4000-8000-000000000000/ninjs');
    expect([missing.status, missing.body.type]).toEqual([404, 'article-not-found']);
  });

  it('ClaimReview: JSON-LD, one per claim with a verdict, with every field API.md lists', async () => {
    const res = await a.checker('get', `${seed.A}/claim-reviews`, undefined, 200);
    expect(res.headers['content-type']).toMatch(/^application\/ld\+json/);
    // When each verdict was recorded, as the log says (time travel folds the stream; the read models may still lag).
    const checkedAt = (await a.reporter('get', `${seed.A}/revisions/${retraction.revision}`, undefined, 200)).body.claims.map((c: any) => c.checkedAt);
    expect(res.body).toEqual([
      {
        '@context': 'https://schema.org',
        '@type': 'ClaimReview',
        url: `${PUBLIC_URL}/articles/${seed.article}/claim-reviews#claim-${seed.claims[0]}`,
        claimReviewed: 'The council voted to close the bridge',
        reviewRating: { '@type': 'Rating', alternateName: 'Verified' },
        itemReviewed: { '@type': 'Claim', appearance: `urn:copydesk:article:${seed.article}` },
        author: { '@type': 'Organization', name: 'The Daily Bridge', url: PUBLIC_URL },
        datePublished: checkedAt[0],
      },
      {
        '@context': 'https://schema.org',
        '@type': 'ClaimReview',
        url: `${PUBLIC_URL}/articles/${seed.article}/claim-reviews#claim-${seed.claims[1]}`,
        claimReviewed: 'Repairs start in May',
        reviewRating: { '@type': 'Rating', alternateName: 'Misleading' },
        itemReviewed: {
          '@type': 'Claim',
          appearance: `urn:copydesk:article:${seed.article}`,
          author: { '@type': 'Organization', name: 'City Hall', '@id': `urn:copydesk:source:${seed.sources.hall}` },
        },
        author: { '@type': 'Organization', name: 'The Daily Bridge', url: PUBLIC_URL },
        datePublished: checkedAt[1],
      },
    ]);
    expect(checkedAt.every((at: unknown) => typeof at === 'string')).toBe(true);
  });
});
