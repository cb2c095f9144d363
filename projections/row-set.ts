import { EventData, NewsroomEventType, ProjectedEvent, Projection, Sql, quoteIdent } from './projection';

/*
 * A small unit of work for set-based projections. A batch is applied in four steps:
 *
 *   1. `reads`: each event names the rows it needs (`quotes.need({ article_id })`);
 *   2. one SELECT loads all of them, for every table at once;
 *   3. the events are applied in order to those rows in memory, by synchronous handlers that read
 *      like the SQL they replace (`quotes.insert(row, { where: articles.has(…), onConflict: 'nothing' })`);
 *   4. one statement writes what changed: per table, one upsert of the rows that are new or
 *      different and one delete of the rows that were loaded and are gone.
 *
 * So a batch costs two statements whatever its size. The in-memory tables behave as the SQL tables
 * would, statement by statement: values are converted as node-postgres sends them and checked as
 * the column's type checks them (a malformed uuid, an integer that is not one, a NUL in text throw
 * when the per-event statement would have), `NOT NULL` is checked on every row written (including
 * the proposed row of an `ON CONFLICT`, as PostgreSQL does), and uuids are compared in their
 * canonical form. UNIQUE constraints other than the key (`created_position`, claims' `seq`) are
 * left to the table at flush time: they hold on the final rows exactly when they held on every
 * intermediate state, since those columns are only set when a row is created and such rows are
 * never deleted. A row inserted and deleted within the batch never reaches the table.
 */

export type ColumnType = 'uuid' | 'text' | 'integer' | 'numeric' | 'boolean' | 'json';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly notNull: boolean;
}

export interface TableSpec {
  /** The placeholder name, `{name}` in SQL. */
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
  /** The primary key's columns. */
  readonly key: readonly string[];
}

// ─────────────────────────────────────────────────────────────── DDL → specs ──

const CREATE_TABLE = /^\s*CREATE\s+TABLE\s+\{([a-z_][a-z0-9_]*)\}\s*\(([\s\S]*)\)\s*$/i;
const TABLE_PRIMARY_KEY = /^PRIMARY\s+KEY\s*\(([^)]*)\)$/i;
const TABLE_CONSTRAINT = /^(UNIQUE|CHECK|CONSTRAINT|FOREIGN|EXCLUDE)\b/i;
const COLUMN = /^([a-z_][a-z0-9_]*)\s+([a-z]+)\b(.*)$/is;
const TYPES: Record<string, ColumnType> = { uuid: 'uuid', text: 'text', integer: 'integer', numeric: 'numeric', boolean: 'boolean', json: 'json' };

/** The tables a projection's DDL creates, read from the DDL itself (so the two cannot disagree). */
export function tableSpecs(ddl: readonly string[]): Map<string, TableSpec> {
  const specs = new Map<string, TableSpec>();
  for (const statement of ddl) {
    const match = CREATE_TABLE.exec(statement);
    if (!match) continue;
    const [, name, body] = match;
    const columns: ColumnSpec[] = [];
    let key: string[] = [];
    for (const part of splitTopLevel(body)) {
      const primaryKey = TABLE_PRIMARY_KEY.exec(part);
      if (primaryKey) {
        key = primaryKey[1].split(',').map((c) => c.trim());
        continue;
      }
      if (TABLE_CONSTRAINT.test(part)) continue;
      const column = COLUMN.exec(part);
      const type = column && TYPES[column[2].toLowerCase()];
      if (!column || !type) throw new Error(`row-set: cannot read column definition "${part}" of {${name}}`);
      const isKey = /\bPRIMARY\s+KEY\b/i.test(column[3]);
      if (isKey) key = [column[1]];
      columns.push({ name: column[1], type, notNull: isKey || /\bNOT\s+NULL\b/i.test(column[3]) });
    }
    if (key.length === 0) throw new Error(`row-set: {${name}} has no primary key`);
    const notNullKey = new Set(key);
    specs.set(name, { name, key, columns: columns.map((c) => (notNullKey.has(c.name) ? { ...c, notNull: true } : c)) });
  }
  return specs;
}

function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

// ──────────────────────────────────────────────── values as PostgreSQL sees them ──

// node-postgres's own conversion of a parameter to its text form (objects become JSON, arrays
// array literals, numbers and booleans their toString); it has no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareValue } = require('pg/lib/utils') as { prepareValue(value: unknown): unknown };

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX_PAIR = /^[0-9a-fA-F]{2}$/;
const INTEGER = /^[ \t\n\r\v\f]*([+-]?[0-9]+)[ \t\n\r\v\f]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const BOOLEANS: Record<string, boolean> = { t: true, true: true, y: true, yes: true, on: true, 1: true, f: false, false: false, n: false, no: false, off: false, 0: false };

/** The parameter's text as it reaches PostgreSQL (UTF-8, so a lone surrogate arrives as U+FFFD); a NUL is refused. */
function parameterText(value: unknown): string {
  const prepared = typeof value === 'string' ? value : prepareValue(value);
  const text = typeof prepared === 'string' ? prepared : String(prepared);
  if (text.includes('\u0000')) throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** As PostgreSQL's `uuid` input reads it (optional braces, a hyphen allowed after any 4 hex digits); canonical form. */
function toUuid(text: string): string {
  if (CANONICAL_UUID.test(text)) return text;
  const invalid = () => new Error(`invalid input syntax for type uuid: "${text}"`);
  let at = 0;
  const braces = text[0] === '{';
  if (braces) at++;
  let hex = '';
  for (let i = 0; i < 16; i++) {
    const pair = text.slice(at, at + 2);
    if (!HEX_PAIR.test(pair)) throw invalid();
    hex += pair;
    at += 2;
    if (text[at] === '-' && i % 2 === 1 && i < 15) at++;
  }
  if (braces) {
    if (text[at] !== '}') throw invalid();
    at++;
  }
  if (at !== text.length) throw invalid();
  hex = hex.toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function toInteger(text: string): number {
  const match = INTEGER.exec(text);
  if (!match) throw new Error(`invalid input syntax for type integer: "${text}"`);
  const n = Number(match[1]);
  if (n > 2147483647 || n < -2147483648) throw new Error(`value "${text}" is out of range for type integer`);
  return n === 0 ? 0 : n;
}

function toBoolean(value: unknown, text: string): boolean {
  if (typeof value === 'boolean') return value;
  const parsed = BOOLEANS[text.trim().toLowerCase()];
  if (parsed === undefined) throw new Error(`invalid input syntax for type boolean: "${text}"`);
  return parsed;
}

/** A value as the column stores it: uuid canonical, integer a number, numeric and json their text. */
function columnValue(column: ColumnSpec, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (column.type === 'integer' && Number.isInteger(value)) return toInteger(String(value));
  if (column.type === 'boolean' && typeof value === 'boolean') return value;
  const text = parameterText(value);
  switch (column.type) {
    case 'uuid':
      return toUuid(text);
    case 'integer':
      return toInteger(text);
    case 'boolean':
      return toBoolean(value, text);
    case 'text':
    case 'numeric':
    case 'json':
      return text;
  }
}

/** The SQL type a column is carried as in JSON: numeric and json go over as their text. */
function carriedAs(column: ColumnSpec): string {
  return column.type === 'json' ? 'text' : column.type;
}

function selected(column: ColumnSpec): string {
  const name = quoteIdent(column.name);
  return column.type === 'numeric' || column.type === 'json' ? `${name}::text AS ${name}` : name;
}

// ────────────────────────────────────────────────────────────────── row sets ──

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Row = Record<string, any>;

export type OnConflict<R extends Row> = 'nothing' | ((existing: Readonly<R>, excluded: Readonly<R>) => Partial<R>);

interface Flushable {
  readonly spec: TableSpec;
  loadQuery(param: (value: unknown) => string): string | null;
  loaded(rows: Row[] | null): void;
  writes(param: (value: unknown) => string): string[];
}

/**
 * One table's rows for one batch: the rows the batch's events asked for (`need`), loaded at once,
 * then read and written in memory. Looking up a row outside what was asked for is a programming
 * error and throws, rather than taking "not loaded" for "not there".
 */
export class RowSet<R extends Row> implements Flushable {
  private readonly columns: ReadonlyMap<string, ColumnSpec>;
  private readonly requested: Map<string, Set<string>>;
  private state: 'collecting' | 'loaded' = 'collecting';
  /** Rows as loaded, by key; never changed. */
  private readonly before = new Map<string, R>();
  /** Rows as they stand now, by key (a written row is a new object, so `!==` before means touched). */
  private readonly now = new Map<string, R>();
  /** Keys of the rows now present, grouped by their load-by values (for `rows(filter)`). */
  private readonly groups = new Map<string, Set<string>>();

  constructor(
    readonly spec: TableSpec,
    private readonly loadBy: readonly (keyof R & string)[],
  ) {
    this.columns = new Map(spec.columns.map((c) => [c.name, c]));
    for (const name of loadBy) if (!spec.key.includes(name)) throw new Error(`row-set {${spec.name}}: loads by ${name}, which is not a key column`);
    this.requested = new Map(loadBy.map((c) => [c, new Set<string>()]));
  }

  /**
   * Asks for the rows with these load-by values. A null value asks for nothing: as in SQL, a key
   * compared with NULL matches no row.
   */
  need(values: Partial<R>): void {
    if (this.state !== 'collecting') throw new Error(`row-set {${this.spec.name}}: need() after the rows were loaded`);
    const checked = this.loadBy.map((name) => this.value(name, values[name]));
    if (checked.some((value) => value === null)) return;
    this.loadBy.forEach((name, i) => this.requested.get(name)!.add(String(checked[i])));
  }

  has(key: Partial<R>): boolean {
    return this.get(key) !== undefined;
  }

  get(key: Partial<R>): Readonly<R> | undefined {
    const k = this.keyOf(key);
    return k === null ? undefined : this.now.get(k);
  }

  /** The rows now present whose columns equal `filter` (which names every load-by column). */
  rows(filter: Partial<R>): Readonly<R>[] {
    const wanted = Object.entries(filter).map(([name, value]) => [name, this.value(name, value)] as const);
    const values = Object.fromEntries(wanted) as Partial<R>;
    if (this.loadBy.some((name) => values[name] === null || values[name] === undefined)) return [];
    this.checkAskedFor(values);
    const group = this.groups.get(this.groupOf(values));
    const out: R[] = [];
    for (const key of group ?? []) {
      const row = this.now.get(key)!;
      if (wanted.every(([name, value]) => row[name] === value)) out.push(row);
    }
    return out;
  }

  /**
   * `INSERT … [SELECT … WHERE where] ON CONFLICT (key) DO NOTHING | DO UPDATE SET …`: the values are
   * checked whether or not the row goes in; the proposed row's NOT NULL columns are checked when
   * `where` holds, even if it then conflicts. Answers whether a row was inserted.
   */
  insert(values: Partial<R>, options: { onConflict: OnConflict<R>; where?: boolean }): boolean {
    const proposed = this.row(values);
    if (options.where === false) return false;
    this.checkNotNull(proposed);
    const key = this.keyOf(proposed)!;
    const existing = this.now.get(key);
    if (!existing) {
      this.put(key, proposed);
      return true;
    }
    if (options.onConflict !== 'nothing') this.write(key, existing, this.patch(options.onConflict(existing, proposed)));
    return false;
  }

  /**
   * `UPDATE … SET … WHERE key`: a patch object is checked whether or not the row is there; a patch
   * function is computed from the row. Answers whether there was a row to update.
   */
  update(key: Partial<R>, patch: Partial<R> | ((row: Readonly<R>) => Partial<R>)): boolean {
    const checked = typeof patch === 'function' ? null : this.patch(patch);
    const k = this.keyOf(key);
    const existing = k === null ? undefined : this.now.get(k);
    if (k === null || !existing) return false;
    this.write(k, existing, checked ?? this.patch((patch as (row: Readonly<R>) => Partial<R>)(existing)));
    return true;
  }

  /** `DELETE … WHERE key`: answers whether there was a row. */
  delete(key: Partial<R>): boolean {
    const k = this.keyOf(key);
    const existing = k === null ? undefined : this.now.get(k);
    if (k === null || !existing) return false;
    this.now.delete(k);
    this.groups.get(this.groupOf(existing))?.delete(k);
    return true;
  }

  // ── loading and writing (UnitOfWork) ──

  loadQuery(param: (value: unknown) => string): string | null {
    this.state = 'loaded';
    if (this.loadBy.some((name) => this.requested.get(name)!.size === 0)) return null;
    const where = this.loadBy
      .map((name) => `${quoteIdent(name)} = ANY(${param([...this.requested.get(name)!])}::${this.columns.get(name)!.type}[])`)
      .join(' AND ');
    return `SELECT json_agg(r) FROM (SELECT ${this.spec.columns.map(selected).join(', ')} FROM {${this.spec.name}} WHERE ${where}) r`;
  }

  loaded(rows: Row[] | null): void {
    for (const row of rows ?? []) {
      const key = this.keyOf(row as Partial<R>, true)!;
      this.before.set(key, row as R);
      this.put(key, row as R);
    }
  }

  writes(param: (value: unknown) => string): string[] {
    const upserts: R[] = [];
    const deletes: R[] = [];
    for (const [key, row] of this.now) {
      const old = this.before.get(key);
      if (row !== old && !(old && this.same(old, row))) upserts.push(row);
    }
    for (const [key, old] of this.before) if (!this.now.has(key)) deletes.push(old);
    const { spec } = this;
    const table = `{${spec.name}}`;
    const statements: string[] = [];
    if (deletes.length > 0) {
      const keyColumns = spec.key.map((name) => this.columns.get(name)!);
      statements.push(
        `DELETE FROM ${table} AS t USING json_to_recordset(${param(payload(keyColumns, deletes))}) AS x(${definition(keyColumns)})
         WHERE ${spec.key.map((name) => `t.${quoteIdent(name)} = x.${quoteIdent(name)}`).join(' AND ')}`,
      );
    }
    if (upserts.length > 0) {
      const others = spec.columns.filter((c) => !spec.key.includes(c.name));
      const action = others.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${others.map((c) => `${quoteIdent(c.name)} = excluded.${quoteIdent(c.name)}`).join(', ')}`;
      statements.push(`${insertFrom(spec, param(payload(spec.columns, upserts)))} ON CONFLICT (${spec.key.map(quoteIdent).join(', ')}) ${action}`);
    }
    return statements;
  }

  // ── internals ──

  private value(name: string, value: unknown): unknown {
    const column = this.columns.get(name);
    if (!column) throw new Error(`row-set {${this.spec.name}}: no column ${name}`);
    return columnValue(column, value);
  }

  /** A whole row from `values`: every column, checked and converted; missing ones null. */
  private row(values: Partial<R>): R {
    for (const name of Object.keys(values)) if (!this.columns.has(name)) throw new Error(`row-set {${this.spec.name}}: no column ${name}`);
    const row: Row = {};
    for (const column of this.spec.columns) row[column.name] = columnValue(column, values[column.name]);
    return row as R;
  }

  /** A patch's values, checked and converted. */
  private patch(values: Partial<R>): Partial<R> {
    const checked: Row = {};
    for (const [name, value] of Object.entries(values)) {
      if (this.spec.key.includes(name)) throw new Error(`row-set {${this.spec.name}}: a patch may not change key column ${name}`);
      checked[name] = this.value(name, value);
    }
    return checked as Partial<R>;
  }

  private write(key: string, existing: R, patch: Partial<R>): void {
    const row = { ...existing, ...patch } as R;
    this.checkNotNull(row);
    this.now.set(key, row);
  }

  private put(key: string, row: R): void {
    this.now.set(key, row);
    const group = this.groupOf(row);
    let keys = this.groups.get(group);
    if (!keys) this.groups.set(group, (keys = new Set()));
    keys.add(key);
  }

  private checkNotNull(row: R): void {
    for (const column of this.spec.columns) {
      if (column.notNull && row[column.name] === null) {
        throw new Error(`null value in column "${column.name}" of relation "${this.spec.name}" violates not-null constraint`);
      }
    }
  }

  private same(a: R, b: R): boolean {
    return this.spec.columns.every((c) => a[c.name] === b[c.name]);
  }

  /**
   * The row's key (values checked and converted unless they come from the table), within what was
   * loaded; null when a key value is null, which no row has.
   */
  private keyOf(values: Partial<R>, fromTable = false): string | null {
    const key: Row = {};
    for (const name of this.spec.key) key[name] = fromTable ? values[name] : this.value(name, values[name]);
    if (this.spec.key.some((name) => key[name] === null)) {
      if (this.state !== 'loaded') throw new Error(`row-set {${this.spec.name}}: rows read before they were loaded`);
      return null;
    }
    if (!fromTable) this.checkAskedFor(key as Partial<R>);
    const parts = this.spec.key.map((name) => String(key[name]));
    return parts.length === 1 ? parts[0] : JSON.stringify(parts);
  }

  /** Reading a row that was not loaded would take "not loaded" for "not there": a programming error. */
  private checkAskedFor(values: Partial<R>): void {
    if (this.state !== 'loaded') throw new Error(`row-set {${this.spec.name}}: rows read before they were loaded`);
    for (const name of this.loadBy) {
      if (!this.requested.get(name)!.has(String(values[name]))) {
        throw new Error(`row-set {${this.spec.name}}: ${name} = ${String(values[name])} was not asked for in reads`);
      }
    }
  }

  private groupOf(values: Partial<R>): string {
    return JSON.stringify(this.loadBy.map((name) => values[name]));
  }
}

/**
 * Rows that are only ever added (`INSERT … SELECT … WHERE where`, no ON CONFLICT): nothing is
 * loaded, and the rows go in with one plain INSERT, which fails on a duplicate key exactly as the
 * per-event INSERT would have.
 */
export class AppendSet<R extends Row> implements Flushable {
  private readonly added: R[] = [];
  private readonly columns: ReadonlyMap<string, ColumnSpec>;

  constructor(readonly spec: TableSpec) {
    this.columns = new Map(spec.columns.map((c) => [c.name, c]));
  }

  insert(values: Partial<R>, options: { where?: boolean } = {}): void {
    for (const name of Object.keys(values)) if (!this.columns.has(name)) throw new Error(`row-set {${this.spec.name}}: no column ${name}`);
    const row: Row = {};
    for (const column of this.spec.columns) row[column.name] = columnValue(column, values[column.name]);
    if (options.where === false) return;
    for (const column of this.spec.columns) {
      if (column.notNull && row[column.name] === null) {
        throw new Error(`null value in column "${column.name}" of relation "${this.spec.name}" violates not-null constraint`);
      }
    }
    this.added.push(row as R);
  }

  loadQuery(): null {
    return null;
  }

  loaded(): void {}

  writes(param: (value: unknown) => string): string[] {
    return this.added.length === 0 ? [] : [insertFrom(this.spec, param(payload(this.spec.columns, this.added)))];
  }
}

function definition(columns: readonly ColumnSpec[]): string {
  return columns.map((c) => `${quoteIdent(c.name)} ${carriedAs(c)}`).join(', ');
}

function insertFrom(spec: TableSpec, param: string): string {
  const names = spec.columns.map((c) => quoteIdent(c.name));
  const values = spec.columns.map((c) => (c.type === 'json' ? `x.${quoteIdent(c.name)}::json` : `x.${quoteIdent(c.name)}`));
  return `INSERT INTO {${spec.name}} AS t (${names.join(', ')}) SELECT ${values.join(', ')} FROM json_to_recordset(${param}) AS x(${definition(spec.columns)})`;
}

function payload(columns: readonly ColumnSpec[], rows: readonly Row[]): string {
  return JSON.stringify(rows.map((row) => Object.fromEntries(columns.map((c) => [c.name, row[c.name]]))));
}

/**
 * The row sets of one batch: one SELECT loads what every table was asked for, one statement writes
 * what changed in all of them (data-modifying CTEs; no two of them touch the same row).
 */
export class UnitOfWork {
  private readonly sets: Flushable[] = [];

  constructor(private readonly specs: ReadonlyMap<string, TableSpec>) {}

  table<R extends Row>(name: string, options: { loadBy: readonly (keyof R & string)[] }): RowSet<R> {
    return this.add(new RowSet<R>(this.spec(name), options.loadBy));
  }

  appendOnly<R extends Row>(name: string): AppendSet<R> {
    return this.add(new AppendSet<R>(this.spec(name)));
  }

  async load(sql: Sql): Promise<void> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const queries = this.sets.map((set) => ({ set, query: set.loadQuery(param) })).filter((q) => q.query !== null);
    if (queries.length === 0) return;
    const { rows } = await sql(`SELECT ${queries.map((q, i) => `(${q.query}) AS r${i}`).join(', ')}`, params);
    queries.forEach((q, i) => q.set.loaded(rows[0][`r${i}`] as Row[] | null));
  }

  async flush(sql: Sql): Promise<void> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const statements = this.sets.flatMap((set) => set.writes(param));
    if (statements.length === 0) return;
    await sql(statements.length === 1 ? statements[0] : `WITH ${statements.map((s, i) => `w${i} AS (${s})`).join(', ')} SELECT 1`, params);
  }

  private spec(name: string): TableSpec {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`row-set: no table {${name}}`);
    return spec;
  }

  private add<S extends Flushable>(set: S): S {
    this.sets.push(set);
    return set;
  }
}

// ─────────────────────────────────────────────────────── set-based projections ──

export interface RowHandler<D, M> {
  /** Names the rows the event needs (`m.quotes.need({ article_id })`); runs before anything is loaded. */
  reads(event: ProjectedEvent<D>, m: M): void;
  /** Applies the event to those rows, in memory. */
  apply(event: ProjectedEvent<D>, m: M): void;
}

export type RowHandlers<M> = { [T in NewsroomEventType]?: RowHandler<EventData<T>, M> };

/**
 * A projection applied a batch at a time through a UnitOfWork: `model` makes the batch's row sets,
 * the handlers say per event type what it reads and what it does. Two statements per batch.
 */
export function setBasedProjection<M>(definition: {
  name: string;
  version: number;
  tables: readonly string[];
  model: (unit: UnitOfWork) => M;
  handlers: RowHandlers<M>;
}): Projection & { readonly handlers: RowHandlers<M> } {
  const specs = tableSpecs(definition.tables);
  const { handlers } = definition;
  const handlerOf = (event: ProjectedEvent) => handlers[event.type as NewsroomEventType] as RowHandler<unknown, M> | undefined;
  return {
    name: definition.name,
    version: definition.version,
    tables: definition.tables,
    handlers,
    types: new Set(Object.keys(handlers)),
    catchAll: false,
    async apply(events, sql) {
      const unit = new UnitOfWork(specs);
      const m = definition.model(unit);
      const applied = events.filter((event) => handlerOf(event) !== undefined);
      if (applied.length === 0) return;
      for (const event of applied) handlerOf(event)!.reads(event, m);
      await unit.load(sql);
      for (const event of applied) handlerOf(event)!.apply(event, m);
      await unit.flush(sql);
    },
  };
}
