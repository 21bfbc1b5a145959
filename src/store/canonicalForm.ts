import * as crypto from 'node:crypto';
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
  const kinds = columns.map((c) => c.kind);
  // Rows are immutable once decoded; the batcher encodes a batch ahead of its insert (while the
  // previous insert runs), and the writer and the store then find the work done. The encoding rides
  // on the row itself, under a hidden key: a WeakMap of every row in flight cost the GC far more.
  const key = Symbol(`canonical form of ${names[0]}…`);
  type Carrier = Record<symbol, Encoded | undefined>;
  const keep = (row: Row, e: Encoded) => {
    if (key in row) (row as Carrier)[key] = e;
    else Object.defineProperty(row, key, { value: e, writable: true, enumerable: false });
  };

  /** A row's values in column order, read once per row. */
  const values: unknown[] = new Array(names.length);

  const encodeRow = (row: Row): Buffer => {
    const r = row as Record<string, unknown>;
    let bound = names.length;
    for (let i = 0; i < names.length; i++) {
      const v = r[names[i]!];
      values[i] = v;
      bound += fieldBound(kinds[i]!, v);
    }
    // A row never straddles two buffers.
    if (arenaUsed + bound > arena.length) {
      arena = Buffer.allocUnsafe(Math.max(ARENA_BYTES, bound));
      arenaUsed = 0;
    }
    const start = arenaUsed;
    let at = writeField(arena, start, kinds[0]!, values[0]);
    for (let i = 1; i < names.length; i++) {
      arena[at++] = 0x09;
      at = writeField(arena, at, kinds[i]!, values[i]);
    }
    arenaUsed = at;
    return arena.subarray(start, at);
  };

  const encoded = (row: Row): Encoded => {
    let e = (row as Carrier)[key];
    if (!e) {
      e = { bytes: encodeRow(row), digest: null };
      keep(row, e);
    }
    return e;
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
      keep(row, { bytes, digest });
    },
    forget(rows) {
      for (const r of rows) if ((r as Carrier)[key]) (r as Carrier)[key] = undefined;
    },
    sqlDigest: `SHA256(formatRowNoNewline('TabSeparated', ${columns.map(sqlField).join(', ')}))`,
  };
}

/** One field written as TabSeparated writes it (see CanonicalForm). */
function writeField(buf: Buffer, at: number, kind: FieldKind, v: unknown): number {
  switch (kind) {
    case 'string':
      return writeTsvString(buf, at, v as string);
    case 'int':
    case 'ms':
      return writeTsvInt(buf, at, v as number);
    case 'nullable_ms':
      if (v !== null && v !== undefined) return writeTsvInt(buf, at, v as number);
      buf[at] = 0x5c;
      buf[at + 1] = 0x4e;
      return at + 2;
    case 'strings':
      return writeTsvArray(buf, at, v as string[]);
    case 'map':
      return writeTsvMap(buf, at, v as Record<string, string>);
  }
}

/** The most bytes writeField can write for this value. */
function fieldBound(kind: FieldKind, v: unknown): number {
  switch (kind) {
    case 'string':
      return tsvStringBound(v as string);
    case 'int':
    case 'ms':
    case 'nullable_ms':
      return TSV_NUMBER_BOUND;
    case 'strings':
      return tsvArrayBound(v as string[]);
    case 'map':
      return tsvMapBound(v as Record<string, string>);
  }
}

function sqlField({ name, kind }: CanonicalColumn): string {
  return kind === 'ms' || kind === 'nullable_ms' ? `toUnixTimestamp64Milli(${name})` : name;
}
