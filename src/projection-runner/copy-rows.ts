import { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ApplyContext, qualify, quoteIdent } from '../../projections/projection';

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
  return text.replace(COPY_SPECIAL, (c) => COPY_ESCAPES[c]);
}

const COPY_SPECIAL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Rows in COPY's text format: fields separated by tabs, each row ended by a newline. */
export function copyText(rows: readonly (readonly unknown[])[]): string {
  let text = '';
  for (const row of rows) text += `${row.map(copyField).join('\t')}\n`;
  return text;
}

/** Rows at most this long (in characters) go to the server in one write. */
const CHUNK = 1 << 20;

/** `COPY table (columns) FROM STDIN` on `client`, in whatever transaction it is in. */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> {
  if (rows.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${table} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`));
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  // Awaited below; until then a failure must not count as unhandled.
  finished.catch(() => undefined);
  let chunk = '';
  for (const row of rows) {
    chunk += `${row.map(copyField).join('\t')}\n`;
    if (chunk.length >= CHUNK) {
      if (!stream.write(chunk)) await Promise.race([new Promise<void>((resolve) => stream.once('drain', resolve)), finished]);
      chunk = '';
    }
  }
  stream.end(chunk);
  await finished;
}

/** The context `apply` gets: `bulk` as given, and `copy` into the tables of `schema`. */
export function applyContext(client: PoolClient, schema: string, tables: readonly string[], bulk: boolean): ApplyContext {
  return {
    bulk,
    copy: (table, columns, rows) => copyRows(client, qualify(`{${table}}`, schema, tables), columns, rows),
  };
}
