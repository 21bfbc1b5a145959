import * as crypto from 'node:crypto';
import { ROW_ENCODING } from '../events/contract.js';
import {
  TSV_NUMBER_BOUND,
  tsvArrayBound,
  tsvMapBound,
  tsvStringBound,
  writeTsvArray,
  writeTsvInt,
  writeTsvMap,
  writeTsvString,
} from './tsv.js';

/** How one stored column is written into the canonical form. */
export type FieldKind = 'string' | 'int' | 'ms' | 'nullable_ms' | 'strings' | 'map';

export interface CanonicalColumn {
  name: string;
  kind: FieldKind;
}

/**
 * The canonical form of a chained row, owned here for both sides: the writer hashes rows in Node
 * before they are inserted, the verifier hashes the stored rows inside ClickHouse.
 *
 * A row's canonical form is its line of ClickHouse TabSeparated text, without the newline: the
 * listed columns in order, separated by tabs, each written as TabSeparated writes it —
 * - `string`: the UTF-8 text with `\` tab newline CR NUL `'` backspace and form feed escaped
 *   (`\\ \t \n \r \0 \' \b \f`);
 * - `int`: the integer in decimal (`-1`, `200`);
 * - `ms`: a DateTime64(3) as decimal epoch milliseconds;
 * - `nullable_ms`: as `ms`, or `\N` for NULL;
 * - `strings` (Array(String)): `['a','b']`, elements escaped as above;
 * - `map` (Map(String, String)): `{'k':'v'}`, entries in stored order (the order Choir inserted
 *   them, which ClickHouse keeps).
 * Example: id `e1`, time 5, scopes `[a]` → `e1 TAB 5 TAB ['a']`.
 *
 * This is the very line Choir inserts (tsv.ts), so a row is encoded once and that encoding is both
 * stored and hashed; and ClickHouse's `formatRowNoNewline('TabSeparated', …)` over the stored
 * columns (times through toUnixTimestamp64Milli) gives the same bytes back, so the verifier needs
 * no encoder of its own. The escaping is reversible, so two different rows never share a line:
 * no text can pass for a separator. The row digest is SHA-256 over the line's UTF-8 bytes, kept as
 * lowercase hex (a string costs the GC far less than a Buffer per row); the digest of a whole batch
 * is in chain.ts.
 */
export interface CanonicalForm<Row> {
  readonly columns: readonly CanonicalColumn[];
  /** The column names, in insert order. */
  readonly names: readonly string[];
  /** The UTF-8 bytes of the row's canonical line (encoded once per row object, then remembered). */
  bytes(row: Row): Buffer;
  /** The canonical line as text. */
  line(row: Row): string;
  /** SHA-256 of the row's canonical bytes in lowercase hex (remembered too). */
  digest(row: Row): string;
  digests(rows: readonly Row[]): string[];
  /**
   * Take a row's bytes and digest as a decode worker computed them with this same form (see
   * ingest/decodeBatch.ts): the insert and the chain then use them as if encoded here.
   */
  remember(row: Row, bytes: Buffer, digest: string): void;
  /**
   * Drop what is remembered of these rows, once they are stored: rows that live on elsewhere
   * (detection holds some for a while) then keep no encoding buffers alive.
   */
  forget(rows: readonly Row[]): void;
  /** ClickHouse expression for the same digest over the stored columns: FixedString(32). */
  readonly sqlDigest: string;
}

/**
 * Output settings a server could be configured to change and that the canonical line depends on:
 * append to every query that evaluates `sqlDigest`.
 */
export const CANONICAL_SETTINGS_SQL =
  "SETTINGS format_tsv_null_representation = '\\\\N', output_format_tsv_crlf_end_of_line = 0";

/** One-shot hashing where Node has it (20.12+): no Hash object per row. Lowercase hex. */
const sha256: (data: Buffer) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'hex')
    : (data) => crypto.createHash('sha256').update(data).digest('hex');

interface Encoded {
  /** The row and form it was made for: a copy of the row (`{...row}`) carries the slot along. */
  row: object;
  form: object;
  bytes: Buffer;
  digest: string | null;
}

/**
 * Rows are written into shared buffers, one write per row: a Buffer per row, or a string of all
 * rows converted at once, cost more (allocations; V8 flattening thousands of string pieces).
 */
const ARENA_BYTES = 4 * 1024 * 1024;
let arena = Buffer.allocUnsafe(ARENA_BYTES);
let arenaUsed = 0;

export function canonicalForm<Row extends object>(columns: readonly CanonicalColumn[]): CanonicalForm<Row> {
  for (const c of columns) {
    if (!/^[a-z_][a-z0-9_]*$/.test(c.name))
      throw new Error(`canonical column "${c.name}" is not a plain name`);
  }
  const names = columns.map((c) => c.name);
  // Rows are immutable once decoded; the batcher encodes a batch ahead of its insert (while the
  // previous insert runs), and the writer and the store then find the work done. The encoding rides
  // on the row itself, in its ROW_ENCODING slot: a WeakMap of every row in flight cost the GC far
  // more. normalise declares the slot; on other rows it is added, hidden from spreads and keys.
  const self = {};
  type Carrier = { [ROW_ENCODING]?: Encoded };
  const keep = (row: Row, bytes: Buffer, digest: string | null): Encoded => {
    const e: Encoded = { row, form: self, bytes, digest };
    if (ROW_ENCODING in row) (row as Carrier)[ROW_ENCODING] = e;
    else Object.defineProperty(row, ROW_ENCODING, { value: e, writable: true, enumerable: false });
    return e;
  };

  const writer = compileRowWriter<Row>(columns);

  const encodeRow = (row: Row): Buffer => {
    const bound = writer.bound(row);
    // A row never straddles two buffers.
    if (arenaUsed + bound > arena.length) {
      arena = Buffer.allocUnsafe(Math.max(ARENA_BYTES, bound));
      arenaUsed = 0;
    }
    const start = arenaUsed;
    arenaUsed = writer.write(arena, start, row);
    return arena.subarray(start, arenaUsed);
  };

  const encoded = (row: Row): Encoded => {
    const e = (row as Carrier)[ROW_ENCODING];
    return e !== undefined && e.row === row && e.form === self ? e : keep(row, encodeRow(row), null);
  };
  const digest = (row: Row) => {
    const e = encoded(row);
    e.digest ??= sha256(e.bytes);
    return e.digest;
  };

  return {
    columns,
    names,
    bytes: (row) => encoded(row).bytes,
    line: (row) => encoded(row).bytes.toString('utf8'),
    digest,
    digests: (rows) => rows.map(digest),
    remember(row, bytes, digest) {
      keep(row, bytes, digest);
    },
    forget(rows) {
      for (const r of rows)
        if ((r as Carrier)[ROW_ENCODING]?.form === self) (r as Carrier)[ROW_ENCODING] = undefined;
    },
    sqlDigest: `SHA256(formatRowNoNewline('TabSeparated', ${columns.map(sqlField).join(', ')}))`,
  };
}

/** Writes a row's canonical line into a buffer, with room for it counted first. */
interface RowWriter<Row> {
  /** The most bytes `write` can write for this row. */
  bound(row: Row): number;
  /** Writes the line at `at`; returns the position after it. */
  write(buf: Buffer, at: number, row: Row): number;
}

/** What the compiled writers call: the field writers and bounds of tsv.ts. */
const FIELD_HELPERS = {
  writeTsvString,
  writeTsvInt,
  writeTsvArray,
  writeTsvMap,
  tsvStringBound,
  tsvArrayBound,
  tsvMapBound,
  TSV_NUMBER_BOUND,
};

/**
 * A writer made for one list of columns: straight-line code reading each column by its name. The
 * generic loop (a keyed read and two switches per field) cost ~4 µs a token_events row, most of it
 * in megamorphic property reads; this reads every row of a table through the same few shapes.
 * Column names are plain identifiers (checked by canonicalForm), so they are safe in the source.
 */
function compileRowWriter<Row>(columns: readonly CanonicalColumn[]): RowWriter<Row> {
  const bounds: string[] = [String(columns.length)];
  const writes: string[] = [];
  columns.forEach(({ name, kind }, i) => {
    const v = `r.${name}`;
    if (i > 0) writes.push('b[at++] = 0x09;');
    switch (kind) {
      case 'string':
        bounds.push(`tsvStringBound(${v})`);
        writes.push(`at = writeTsvString(b, at, ${v});`);
        break;
      case 'int':
      case 'ms':
        bounds.push('TSV_NUMBER_BOUND');
        writes.push(`at = writeTsvInt(b, at, ${v});`);
        break;
      case 'nullable_ms':
        bounds.push('TSV_NUMBER_BOUND');
        writes.push(
          `if (${v} !== null && ${v} !== undefined) at = writeTsvInt(b, at, ${v}); else { b[at++] = 0x5c; b[at++] = 0x4e; }`,
        );
        break;
      case 'strings':
        bounds.push(`tsvArrayBound(${v})`);
        writes.push(`at = writeTsvArray(b, at, ${v});`);
        break;
      case 'map':
        bounds.push(`tsvMapBound(${v})`);
        writes.push(`at = writeTsvMap(b, at, ${v});`);
        break;
    }
  });
  const source = `
    const { ${Object.keys(FIELD_HELPERS).join(', ')} } = helpers;
    return {
      bound: (r) => ${bounds.join(' + ')},
      write(b, at, r) {
        ${writes.join('\n        ')}
        return at;
      },
    };`;
  return new Function('helpers', source)(FIELD_HELPERS) as RowWriter<Row>;
}

function sqlField({ name, kind }: CanonicalColumn): string {
  return kind === 'ms' || kind === 'nullable_ms' ? `toUnixTimestamp64Milli(${name})` : name;
}
