/**
 * `npx ts-node --transpile-only bench/stage-budget.ts SERVER.cpuprofile [MS_PER_REQUEST]`: the server's
 * CPU (from `npm run bench -- --profile commands`) by stage of a request. Each sample goes to the first
 * stage that one of its frames, leaf first, belongs to; the PostgreSQL client's work (writing queries to
 * the socket, parsing rows) is one stage, whoever sent the query, since a reply arrives on a fresh stack.
 * With MS_PER_REQUEST (the benchmark's server CPU per request), shares become milliseconds.
 */
import { readFileSync } from 'node:fs';

interface Frame {
  functionName: string;
  url: string;
}
interface Node {
  id: number;
  callFrame: Frame;
  children?: number[];
}

const has = (f: Frame, ...parts: string[]) => parts.some((p) => f.url.includes(p));
const named = (f: Frame, ...names: string[]) => names.includes(f.functionName);

/** Leaf first: the first rule a frame matches names the sample's stage. */
const STAGES: [string, (f: Frame) => boolean][] = [
  ['JWT (verify the bearer token)', (f) => has(f, 'node_modules/jsonwebtoken/', 'node_modules/jws/', 'node_modules/jwa/', '/src/auth/jwt')],
  ['validation (class-validator, DTOs)', (f) => has(f, 'node_modules/class-validator/', 'node_modules/class-transformer/', 'node_modules/validator/', '/src/http/validation', '/src/http/body-shape', '/dto/')],
  ['seal (hash chain, canonical JSON)', (f) => named(f, 'sealEvents') || has(f, '/src/newsroom/hash-chain', '/src/newsroom/canonical-json')],
  ['decide', (f) => named(f, 'decide') || (has(f, '.decider') && /^(draftArticle|addQuote|attributeQuote|recordClaim|tagTopic|reviewed|requireQuote|quoteNotInBody)/.test(f.functionName)) || has(f, '/src/newsroom/text', '/src/newsroom/typography', 'quote-not-in-body', 'publish-gate')],
  ['load (fold, decode, cache)', (f) => has(f, '/src/newsroom/stream-states', '/src/newsroom/event-codec', '/src/newsroom/snapshots') || (has(f, '.decider') && /evolve/i.test(f.functionName))],
  ['append + NOTIFY (event store adapter)', (f) => has(f, '/src/event-store/')],
  ['idempotency', (f) => has(f, '/src/http/idempotency')],
  ['queries (GET /articles/{id})', (f) => has(f, '/src/read-store/queries/', '/src/read-store/controllers/', '/src/read-store/read-models')],
  ['projections (runner, read models)', (f) => has(f, '/src/projection-runner/', '/projections/')],
  ['PostgreSQL client (all queries: write, read, wire)', (f) => has(f, 'node_modules/pg/', 'node_modules/pg-protocol/', 'node_modules/pg-pool/', 'node_modules/pg-types/', 'node_modules/postgres-')],
  [
    'HTTP + Nest pipeline (Fastify, guards, interceptors, rxjs, helmet, throttler, JSON)',
    (f) => has(f, 'node_modules/fastify', 'node_modules/@fastify/', 'node_modules/@nestjs/', 'node_modules/rxjs/', 'node_modules/find-my-way/', 'node_modules/helmet/', 'node_modules/light-my-request/', 'node_modules/avvio/', 'node_modules/reflect-metadata/', 'node:_http', '/src/http/', '/src/auth/', '/src/app/') || has(f, 'node_modules/fast-json-stringify/', 'node_modules/secure-json-parse/'),
  ],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
];

function main(): void {
  const [file, perRequest] = process.argv.slice(2);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = stageOf.get(id);
    if (known) return known;
    let stage = 'other (Node internals, event loop)';
    if (byId.get(id)!.callFrame.functionName === '(idle)') stage = '(idle)';
    else
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const hit = STAGES.find(([, match]) => match(byId.get(cur!)!.callFrame));
        if (hit) {
          stage = hit[0];
          break;
        }
      }
    stageOf.set(id, stage);
    return stage;
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => totals.set(classify(id), (totals.get(classify(id)) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  totals.delete('(idle)');
  const busy = [...totals.values()].reduce((a, b) => a + b, 0);
  const ms = perRequest ? Number(perRequest) : null;
  process.stdout.write(`${(busy / 1e6).toFixed(1)} s of busy samples\n\n| stage | share of server CPU |${ms ? ' ms per request |' : ''}\n|---|---:|${ms ? '---:|' : ''}\n`);
  for (const [stage, us] of [...totals].sort((a, b) => b[1] - a[1]))
    process.stdout.write(`| ${stage} | ${((100 * us) / busy).toFixed(1)}% |${ms ? ` ${((ms * us) / busy).toFixed(3)} |` : ''}\n`);
}

main();
