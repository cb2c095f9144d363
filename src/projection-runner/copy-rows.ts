import { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ApplyContext, Held, qualify, quoteIdent } from '../../projections/projection';

/**
 * One value in COPY's text format: `\N` for NULL; in anything else a backslash, tab, newline and
 * carriage return are escaped (`\\`, `\t`, `\n`, `\r`), so no value can end its field or row early
 * or be read as NULL. Objects and arrays go as their JSON text (for json/jsonb columns).
 */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') text = String(value);
  else if (value instanceof Date) text = value.toISOString();
  else text = JSON.stringify(value);
  return NEEDS_ESCAPE.test(text) ? text.replace(COPY_SPECIAL, (c) => COPY_ESCAPES[c]) : text;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const COPY_SPECIAL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Rows in COPY's text format: fields separated by tabs, each row ended by a newline. */
export function copyText(rows: readonly (readonly unknown[])[]): string {
  let text = '';
  for (const row of rows) text += `${row.map(copyField).join('\t')}\n`;
  return text;
}

/**
 * `COPY table (columns) FROM STDIN` on `client`, in whatever transaction it is in. The rows are
 * encoded before the statement starts (a batch's worth of text), so that the server spends the
 * statement loading rather than waiting for the next row.
 */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (rows.length === 0) return;
  const text = copyText(rows);
  const stream = client.query(copyFrom(`COPY ${table} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`));
  await new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
    stream.end(text);
  });
}

/** The context `apply` gets: `bulk` and `held` as given, and `copy` into the tables of `schema`. */
export function applyContext(client: PoolClient, schema: string, tables: readonly string[], bulk: boolean, held: Held | null): ApplyContext {
  return {
    bulk,
    held: bulk ? held : null,
    copy: (table, columns, rows) => copyRows(client, qualify(`{${table}}`, schema, tables), columns, rows),
  };
}
