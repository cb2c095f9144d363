import type { SchemaObject } from '@nestjs/swagger';

/*
 * The OpenAPI (3.0) schemas of the distribution documents: the part of ninjs 2.2 that Copydesk fills
 * (the official JSON Schema, docs/specs/ninjs-schema_2.2.json, is the reference), and ClaimReview.
 */

const str = (description?: string, extra: SchemaObject = {}): SchemaObject => ({ type: 'string', ...(description ? { description } : {}), ...extra });
const obj = (properties: Record<string, SchemaObject>, required: string[] = Object.keys(properties)): SchemaObject => ({ type: 'object', properties, required });

const name: SchemaObject = {
  type: 'object',
  properties: { name: str(), rel: str('`quoted`'), role: str('`wire` or `document`'), uri: str('`urn:copydesk:source:<id>`') },
  required: ['name', 'uri'],
};

export const NINJS_SCHEMA: SchemaObject = {
  ...obj({
    uri: str('`urn:copydesk:article:<id>`'),
    type: str(undefined, { enum: ['text'] }),
    version: str('The revision, as a string.'),
    firstcreated: str('When it was drafted.', { format: 'date-time' }),
    versioncreated: str('When this revision was made.', { format: 'date-time' }),
    pubstatus: str('`usable` when published, `canceled` when retracted, `withheld` otherwise.', { enum: ['usable', 'withheld', 'canceled'] }),
    headlines: { type: 'array', items: obj({ role: str(undefined, { enum: ['main'] }), value: str() }) },
    bodies: {
      type: 'array',
      items: obj({ role: str(undefined, { enum: ['main'] }), contenttype: str(undefined, { enum: ['text/plain'] }), value: str(), charcount: { type: 'integer' }, wordcount: { type: 'integer' } }),
    },
    by: str('The byline, else the name of whoever drafted the article.'),
    subjects: { type: 'array', description: 'The topics.', items: obj({ name: str('The label.'), literal: str('The slug.') }) },
    people: { type: 'array', description: 'Attributed sources that are people.', items: name },
    organisations: { type: 'array', description: 'Attributed sources that are organisations.', items: name },
    infosources: { type: 'array', description: 'Attributed wire services and documents.', items: name },
    ednote: str('The corrections, newest first, one a line.'),
    trustindicators: { type: 'array', items: obj({ role: str('`https://schema.org/ClaimReview`'), title: str(), href: str('The ClaimReview document.') }) },
  }),
  required: ['uri', 'type', 'version', 'firstcreated', 'versioncreated', 'pubstatus', 'headlines', 'bodies', 'by', 'subjects', 'people', 'organisations', 'infosources', 'trustindicators'],
  description: 'IPTC ninjs 2.2, valid against the official schema (docs/specs/ninjs-schema_2.2.json).',
};

const party: SchemaObject = obj({ '@type': str(undefined, { enum: ['Person', 'Organization'] }), name: str(), '@id': str() }, ['@type', 'name']);

export const CLAIM_REVIEWS_SCHEMA: SchemaObject = {
  type: 'array',
  description: 'schema.org ClaimReview, one per claim with a verdict, in the order the claims were recorded.',
  items: obj({
    '@context': str(undefined, { enum: ['https://schema.org'] }),
    '@type': str(undefined, { enum: ['ClaimReview'] }),
    url: str(),
    claimReviewed: str('The claim.'),
    reviewRating: obj({ '@type': str(undefined, { enum: ['Rating'] }), alternateName: str(undefined, { enum: ['Verified', 'Misleading', 'False', 'Unverifiable'] }) }),
    itemReviewed: obj({ '@type': str(undefined, { enum: ['Claim'] }), appearance: str("The article's uri."), author: party }, ['@type', 'appearance']),
    author: obj({ '@type': str(undefined, { enum: ['Organization'] }), name: str('COPYDESK_ORGANIZATION'), url: str('PUBLIC_URL') }),
    datePublished: str("The verdict's time.", { format: 'date-time' }),
  }),
};
