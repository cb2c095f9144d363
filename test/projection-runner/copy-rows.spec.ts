import { Pool } from 'pg';
import { auditProjection } from '../../projections/audit.projection';
import { boundSql, tableNames } from '../../projections/projection';
import { applyContext, copyField, copyRows, copyText } from '../../src/projection-runner/copy-rows';
import { StreamBuilder, modelHarness } from '../support/projection-harness';
import { dumpModel, readSideDb, ReadSideDb } from '../support/read-side';

/** Strings that would end a field or a row early, or read as NULL, if written to COPY as they are. */
const HOSTILE = [
  '',
  '\\N',
  'N',
  '\\',
  '\\\\',
  'a\tb',
  'line\nbreak',
  'carriage\rreturn',
  '\r\n',
  'back\\slash\\n not a newline',
  '\\.',
  '\n\\.\n',
  'tab at end\t',
  ' leading and trailing spaces ',
  'quotes " \' and commas ,',
  'unicode: é ß 日本語 🙂 \u2028 \u2029',
  '\b\f\v\u0001\u007f',
];

describe('COPY text format', () => {
  it('writes NULL as \\N and escapes backslash, tab, newline and carriage return', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField(undefined)).toBe('\\N');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyField(42)).toBe('42');
    expect(copyField(10n ** 20n)).toBe('100000000000000000000');
    expect(copyField(false)).toBe('false');
    expect(copyField(new Date('2026-11-30T06:00:00.123Z'))).toBe('2026-11-30T06:00:00.123Z');
    expect(copyField({ a: 'x\ny', b: [1, null] })).toBe('{"a":"x\\\\ny","b":[1,null]}');
    // No escaped value holds a raw separator.
    for (const text of HOSTILE) expect(copyField(text)).not.toMatch(/[\t\n\r]/);
    expect(copyText([['a', null], ['b\t', 1]])).toBe('a\t\\N\nb\\t\t1\n');
  });

  describe('through PostgreSQL', () => {
    let pool: Pool;
    let rs: ReadSideDb;

    beforeAll(async () => {
      rs = await readSideDb();
      pool = rs.pool;
    });
    afterAll(async () => {
      await rs.close();
    });

    it('loads hostile strings, NULLs, JSON and timestamps back exactly as given', async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('CREATE TEMP TABLE hostile (n integer, t text, j json, ts timestamptz) ON COMMIT DROP');
        const rows: unknown[][] = HOSTILE.map((t, n) => [n, t, { t, list: [t, null] }, new Date(Date.UTC(2026, 10, 30, 6, 0, n))]);
        rows.push([HOSTILE.length, null, null, null]);
        await copyRows(client, 'hostile', ['n', 't', 'j', 'ts'], rows);
        const { rows: back } = await client.query<{ n: number; t: string | null; j: unknown; ts: Date | null }>('SELECT n, t, j, ts FROM hostile ORDER BY n');
        expect(back.map((r) => [r.n, r.t, r.j, r.ts])).toEqual(rows);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    });

    it('a failing COPY (a duplicate key) rejects, and the transaction can roll back', async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('CREATE TEMP TABLE keyed (k integer PRIMARY KEY) ON COMMIT DROP');
        await expect(copyRows(client, 'keyed', ['k'], [[1], [2], [1]])).rejects.toThrow(/duplicate key/);
        await client.query('ROLLBACK');
        expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        client.release();
      }
    });

    it('the audit projection COPYs in bulk exactly the rows it INSERTs otherwise', async () => {
      const stream = new StreamBuilder('article-00000000-0000-4000-8000-0000000000aa');
      const events = HOSTILE.map((text, i) =>
        stream.event('ArticleNoteAdded', { note: text, index: i }, { actor: { id: `u\t${i}`, name: text, roles: ['editor', text] }, reason: i % 2 ? text : undefined }),
      );
      const inserted = await modelHarness(pool, auditProjection);
      const copied = await modelHarness(pool, auditProjection);
      try {
        await inserted.given(...events);
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const tables = tableNames(auditProjection);
          await auditProjection.apply(events, boundSql(client, copied.schema, tables), applyContext(client, copied.schema, tables, true, null));
          await client.query('COMMIT');
        } finally {
          client.release();
        }
        const dump = await dumpModel(pool, auditProjection, inserted.schema);
        expect(dump.entries).toHaveLength(HOSTILE.length);
        expect(await dumpModel(pool, auditProjection, copied.schema)).toEqual(dump);
      } finally {
        await inserted.drop();
        await copied.drop();
      }
    });
  });
});
