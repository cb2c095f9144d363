import fc from 'fast-check';

/** CI runs a modest number of cases per route; `FUZZ_RUNS=1000 npx jest test/security/fuzz` for a long run. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 15);

export const adversarialString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udc00y',
    "'; DROP TABLE events; --",
    '<script>alert(1)</script>',
    '{{7*7}}',
    '${process.exit()}',
    '../../etc/passwd',
    '\u202e\u200b',
    '\u200b',
    ' ',
    '00000000-0000-4000-8000-000000000000',
    'https://example.org/x',
    'verified',
    'person',
  ),
  fc.integer({ min: 1, max: 4 }).map((k) => 'x'.repeat(k * 60000)),
);

/** Nested arrays and objects, alternating, `depth` levels deep. */
export function deep(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? { nested: value } : [value];
  return value;
}

export const adversarialValue = fc.oneof(
  adversarialString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.anything(), { maxKeys: 5 }),
  fc.integer({ min: 20, max: 2000 }).map(deep),
  fc.integer({ min: 1001, max: 5000 }).map((n) => Array(n).fill(0)),
  fc.constant({ __proto__: { admin: true } }),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}}')),
);

/** What a case does to a route's valid body: nothing (so that it can succeed), or one thing wrong. */
export type Mutation =
  | { kind: 'none' }
  | { kind: 'field'; key: string; value: unknown }
  | { kind: 'drop'; key: string }
  | { kind: 'extra'; key: string; value: unknown }
  | { kind: 'whole'; value: unknown };

export function mutations(keys: string[]): fc.Arbitrary<Mutation> {
  const some = keys.length > 0;
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
    { weight: some ? 5 : 0, arbitrary: some ? fc.record({ kind: fc.constant('field' as const), key: fc.constantFrom(...keys), value: adversarialValue }) : fc.constant<Mutation>({ kind: 'none' }) },
    { weight: some ? 1 : 0, arbitrary: some ? fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom(...keys) }) : fc.constant<Mutation>({ kind: 'none' }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('extra' as const), key: fc.string({ minLength: 1, maxLength: 20 }), value: adversarialValue }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('whole' as const), value: fc.anything({ maxDepth: 4 }) }) },
  );
}

export function mutate(body: Record<string, unknown> | undefined, mutation: Mutation): unknown {
  const base = body ?? {};
  switch (mutation.kind) {
    case 'none':
      return body;
    case 'field':
      return { ...base, [mutation.key]: mutation.value };
    case 'drop': {
      const { [mutation.key]: _, ...rest } = base;
      return rest;
    }
    case 'extra':
      return { ...base, [mutation.key]: mutation.value };
    case 'whole':
      return mutation.value;
  }
}

/** Header values a client can send (Latin-1 without control characters; Node refuses the rest before sending). */
export const headerText = fc.oneof(
  fc.string({ maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c < 0x7f || c > 0x9f).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.integer({ min: 201, max: 8000 }).map((n) => 'h'.repeat(n)),
);

export type HeaderName = 'if-match' | 'idempotency-key' | 'x-correlation-id' | 'authorization' | 'content-type' | 'x-wait-for-position';

export function headerMutations(names: HeaderName[], special: Partial<Record<HeaderName, string[]>> = {}): fc.Arbitrary<{ name: HeaderName; value: string } | null> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...names).chain((name) =>
        fc.record({ name: fc.constant(name), value: special[name]?.length ? fc.oneof(headerText, fc.constantFrom(...special[name]!)) : headerText }),
      ),
    },
  );
}

/** Per route: cases run, answers by status and type, 2xx answers and events appended. */
export class FuzzTally {
  private readonly rows = new Map<string, { cases: number; ok: number; appended: number; answers: Map<string, number> }>();

  record(route: string, status: number, type: string | undefined, appended = 0): void {
    const row = this.rows.get(route) ?? { cases: 0, ok: 0, appended: 0, answers: new Map<string, number>() };
    row.cases++;
    if (status < 300) row.ok++;
    row.appended += appended;
    const key = status < 300 ? String(status) : `${status} ${type ?? ''}`.trim();
    row.answers.set(key, (row.answers.get(key) ?? 0) + 1);
    this.rows.set(route, row);
  }

  ok(route: string): number {
    return this.rows.get(route)?.ok ?? 0;
  }

  /** A table for the spec's output: how many cases reached the store, and what the others were answered. */
  summary(title: string): string {
    const lines = [...this.rows.entries()].map(([route, row]) => {
      const answers = [...row.answers.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(', ');
      return `  ${route.padEnd(58)} ${String(row.cases).padStart(5)} cases ${String(row.ok).padStart(5)} 2xx ${String(row.appended).padStart(5)} events   ${answers}`;
    });
    const total = [...this.rows.values()].reduce((sum, r) => ({ cases: sum.cases + r.cases, ok: sum.ok + r.ok, appended: sum.appended + r.appended }), { cases: 0, ok: 0, appended: 0 });
    return `${title} (FUZZ_RUNS=${FUZZ_RUNS}): ${total.cases} cases, ${total.ok} answered 2xx, ${total.appended} events appended\n${lines.join('\n')}\n`;
  }
}

/** What every error answer must look like: problem+json, and nothing internal. */
export function expectProblem(res: { status: number; headers: Record<string, string>; text: string; body: Record<string, unknown> }): void {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect([typeof res.body.type, typeof res.body.title, res.body.status, typeof res.body.detail]).toEqual(['string', 'string', res.status, 'string']);
  expect(res.text).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+|SELECT |INSERT INTO|relation "|syntax error/);
}
