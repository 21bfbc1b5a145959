import { CHAIN_COLUMNS, type ChainStamp } from './chain.js';

/**
 * ClickHouse's TabSeparated text, as Choir writes it. Every row is written as its canonical line
 * (canonicalForm.ts), which is hashed for the chain and inserted as it is: one encoding per row.
 * TabSeparated is about half the bytes of JSONEachRow and the cheapest text format for ClickHouse to parse.
 *
 * The escapes are exactly those ClickHouse writes when it outputs TabSeparated, so that
 * `formatRowNoNewline('TabSeparated', …)` over the stored columns gives back the very same bytes.
 */

const NEEDS_ESCAPE = /[\\\t\n\r\0'\b\f]/;
const ESCAPE_ALL = /[\\\t\n\r\0'\b\f]/g;
const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\0': '\\0',
  "'": "\\'",
  '\b': '\\b',
  '\f': '\\f',
};

/** A String field; most values need no escape, so test before replacing. */
export function tsvString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(ESCAPE_ALL, (c) => ESCAPES[c]!);
}

/**
 * Writers of fields straight into a buffer, for the canonical line of every row: building
 * the line as a string first cost ~2 KB of garbage a row (one string piece per field and separator)
 * and a flattening copy. Each takes the position to write at and returns the position after. The
 * caller makes room first: at most what the matching bound below says.
 */

/** Strings up to this long are copied a character at a time; longer ones by Buffer#write. */
const SHORT = 24;

/** A String field, as tsvString writes it, in UTF-8. */
export function writeTsvString(buf: Buffer, at: number, s: string): number {
  const n = s.length;
  if (n > SHORT) return at + buf.write(tsvString(s), at);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // Past ASCII, or a character that may need an escape: the rest goes the general way.
    if (c >= 0x80 || c < 0x20 || c === 0x5c || c === 0x27) return at + buf.write(tsvString(s.slice(i)), at);
    buf[at++] = c;
  }
  return at;
}

/** An integer in decimal, as String(n) writes it (anything else through String itself). */
export function writeTsvInt(buf: Buffer, at: number, n: number): number {
  if (!Number.isSafeInteger(n)) return at + buf.write(String(n), at, 'latin1');
  if (n < 0) {
    buf[at++] = 0x2d;
    n = -n;
  }
  if (n <= MAX_INT32) return writeDigits(buf, at, n);
  // Past 32 bits (epoch milliseconds are 13 digits) division is floating point and ~4× slower a
  // digit: write the top digits, then the last nine with 32-bit arithmetic.
  const high = Math.floor(n / 1e9);
  return writeNineDigits(buf, writeTsvInt(buf, at, high), n - high * 1e9);
}

const MAX_INT32 = 2 ** 31 - 1;

/** 0 ≤ n ≤ MAX_INT32, without leading zeros. */
function writeDigits(buf: Buffer, at: number, n: number): number {
  let end = at + 1;
  for (let rest = n; rest >= 10; rest = (rest / 10) | 0) end++;
  for (let p = end - 1; p >= at; p--) {
    const q = (n / 10) | 0;
    buf[p] = 0x30 + n - q * 10;
    n = q;
  }
  return end;
}

/** 0 ≤ n < 1e9 as exactly nine digits, zero-padded. */
function writeNineDigits(buf: Buffer, at: number, n: number): number {
  for (let p = at + 8; p >= at; p--) {
    const q = (n / 10) | 0;
    buf[p] = 0x30 + n - q * 10;
    n = q;
  }
  return at + 9;
}

/** An Array(String) field: `['a','b']`, elements escaped as strings. */
export function writeTsvArray(buf: Buffer, at: number, a: readonly string[]): number {
  buf[at++] = 0x5b;
  for (let i = 0; i < a.length; i++) {
    if (i) buf[at++] = 0x2c;
    buf[at++] = 0x27;
    at = writeTsvString(buf, at, a[i]!);
    buf[at++] = 0x27;
  }
  buf[at++] = 0x5d;
  return at;
}

/** A Map(String, String) field, entries in the object's own order: `{'k':'v'}`. */
export function writeTsvMap(buf: Buffer, at: number, m: Readonly<Record<string, string>>): number {
  buf[at++] = 0x7b;
  let first = true;
  for (const k in m) {
    if (!first) buf[at++] = 0x2c;
    first = false;
    buf[at++] = 0x27;
    at = writeTsvString(buf, at, k);
    buf[at++] = 0x27;
    buf[at++] = 0x3a;
    buf[at++] = 0x27;
    at = writeTsvString(buf, at, m[k]!);
    buf[at++] = 0x27;
  }
  buf[at++] = 0x7d;
  return at;
}

/**
 * Room a string needs at most once written: 3 UTF-8 bytes per UTF-16 unit covers both an escape
 * (2 bytes for 1 unit) and any character (at most 3 bytes per unit).
 */
export const tsvStringBound = (s: string): number => 3 * s.length;

/** Room a number needs at most: a double's longest decimal form (e.g. -1.2345678901234567e+308). */
export const TSV_NUMBER_BOUND = 24;

/** Room writeTsvArray needs at most: brackets, and per element its quotes and a comma. */
export function tsvArrayBound(a: readonly string[]): number {
  let n = 2;
  for (const s of a) n += tsvStringBound(s) + 3;
  return n;
}

/** Room writeTsvMap needs at most: braces, and per entry four quotes, a colon and a comma. */
export function tsvMapBound(m: Readonly<Record<string, string>>): number {
  let n = 2;
  for (const k in m) n += tsvStringBound(k) + tsvStringBound(m[k]!) + 6;
  return n;
}

/** The columns of an insert: with a chain stamp, CHAIN_COLUMNS come first. */
export function insertColumns(columns: readonly string[], chain?: ChainStamp): readonly string[] {
  return chain ? [...CHAIN_COLUMNS, ...columns] : columns;
}

/**
 * The bytes of one insert: each row's canonical line, after the chain columns when `chain` is given.
 * The first row carries the link's three hashes; the others leave them empty (see chain.ts).
 * Written into one buffer directly: a Buffer.concat of three pieces per row cost more than the copying.
 */
export function insertPayload(
  lines: readonly Buffer[],
  chain?: ChainStamp,
  allocate: (size: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  let first: Buffer | null = null;
  let rest: Buffer | null = null;
  let size = 0;
  for (const line of lines) size += line.length + 1;
  if (chain) {
    const l = chain.link;
    const common = `${tsvString(l.chain_id)}\t${l.batch_seq}\t${l.batch_rows}\t${l.batch_time}\t`;
    first = Buffer.from(`${common}${l.prev_hash}\t${l.batch_hash}\t${l.signature}\t`);
    rest = Buffer.from(`${common}\t\t\t`);
    // Each row also gets its row_hash, a UInt32: at most 10 digits and a tab.
    size += first.length + (lines.length - 1) * rest.length + lines.length * 11;
  }
  const out = allocate(size);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    if (chain) {
      const prefix = i === 0 ? first! : rest!;
      out.set(prefix, at);
      at += prefix.length;
      at = writeTsvInt(out, at, chain.rowHashes[i]!);
      out[at++] = 0x09;
    }
    const line = lines[i]!;
    out.set(line, at);
    at += line.length;
    out[at++] = 0x0a;
  }
  return out.subarray(0, at);
}
