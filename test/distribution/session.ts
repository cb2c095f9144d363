import { Role } from '../../src/newsroom/actor';
import { TestApp } from '../support/app';

export const BODY =
  'The council voted to close the bridge.\n\nThe mayor said “we will rebuild it” on Tuesday.\n\nCity Hall said “repairs start in May”, and the wire reported “traffic is diverted”.';

/** Requests as a newsroom's people make them: each role its own token. */
export function actors(t: TestApp) {
  const as = (roles: Role[], id: string, name: string) => {
    const token = t.token(roles, id, name);
    const call = async (method: 'get' | 'post' | 'put' | 'delete', path: string, body?: unknown, expected?: number) => {
      const req = t.http()[method](path).set('authorization', `Bearer ${token}`);
      const res = await (body === undefined ? req : req.send(body as object));
      if (expected !== undefined && res.status !== expected) throw new Error(`${method.toUpperCase()} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res;
    };
    return call;
  };
  return {
    reporter: as(['reporter'], 'rita', 'Rita Reporter'),
    editor: as(['editor'], 'ed', 'Ed Editor'),
    checker: as(['fact_checker'], 'fay', 'Fay Checker'),
    admin: as(['admin'], 'ada', 'Ada Admin'),
  };
}

export type Actors = ReturnType<typeof actors>;

/**
 * The README's session, with a person, an organisation and a wire service quoted: draft, quotes
 * attributed, topics, claims with verdicts. Answers the ids; the article is left in draft.
 */
export async function draftSeedArticle(a: Actors) {
  const mayor = (await a.reporter('post', '/sources', { name: 'Jane Doe', kind: 'person', title: 'Mayor' }, 201)).body.id;
  const hall = (await a.reporter('post', '/sources', { name: 'City Hall', kind: 'organization' }, 201)).body.id;
  const wire = (await a.reporter('post', '/sources', { name: 'Metro Wire', kind: 'wire' }, 201)).body.id;
  const article = (await a.reporter('post', '/articles', { headline: 'Bridge to close', body: BODY, byline: 'Rita Reporter' }, 201)).body.id;
  const A = `/articles/${article}`;
  const q1 = (await a.reporter('post', `${A}/quotes`, { text: 'we will rebuild it', speaker: 'Jane Doe' }, 201)).body.quoteId;
  const q2 = (await a.reporter('post', `${A}/quotes`, { text: 'repairs start in May', speaker: 'City Hall' }, 201)).body.quoteId;
  const q3 = (await a.reporter('post', `${A}/quotes`, { text: 'traffic is diverted', speaker: 'Metro Wire' }, 201)).body.quoteId;
  await a.reporter('post', `${A}/quotes/${q1}/attribution`, { sourceId: mayor, method: 'press_briefing', attribution: 'told reporters' }, 200);
  await a.reporter('post', `${A}/quotes/${q2}/attribution`, { sourceId: hall, method: 'statement' }, 200);
  await a.reporter('post', `${A}/quotes/${q3}/attribution`, { sourceId: wire, method: 'wire' }, 200);
  await a.reporter('post', `${A}/topics`, { topic: 'Local Infrastructure' }, 201);
  await a.reporter('post', `${A}/topics`, { topic: 'City Council' }, 201);
  const c1 = (await a.checker('post', `${A}/claims`, { text: 'The council voted to close the bridge' }, 201)).body.claimId;
  const c2 = (await a.checker('post', `${A}/claims`, { text: 'Repairs start in May', quoteId: q2 }, 201)).body.claimId;
  await a.checker('post', `${A}/claims/${c1}/verdict`, { verdict: 'verified', evidence: [{ url: 'https://example.org/minutes', note: 'Council minutes' }] }, 200);
  await a.checker('post', `${A}/claims/${c2}/verdict`, { verdict: 'misleading', evidence: [{ note: 'The tender closes in June' }] }, 200);
  return { article, A, sources: { mayor, hall, wire }, quotes: [q1, q2, q3], claims: [c1, c2] };
}
