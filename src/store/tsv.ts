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

/** An Array(String) field: `['a','b']`. */
export function tsvArray(a: readonly string[]): string {
  if (a.length === 0) return '[]';
  let out = "['";
  for (let i = 0; i < a.length; i++) out += `${i ? "','" : ''}${tsvString(a[i]!)}`;
  return `${out}']`;
}

/** A Map(String, String) field, entries in the object's own order: `{'k':'v'}`. */
export function tsvMap(m: Readonly<Record<string, string>>): string {
  let out = '{';
  let first = true;
  for (const k in m) {
    out += `${first ? "'" : ",'"}${tsvString(k)}':'${tsvString(m[k]!)}'`;
    first = false;
  }
  return `${out}}`;
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
export function insertPayload(lines: readonly Buffer[], chain?: ChainStamp): Buffer {
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
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    if (chain) {
      const prefix = i === 0 ? first! : rest!;
      out.set(prefix, at);
      at += prefix.length;
      at += out.write(String(chain.rowHashes[i]), at, 'latin1');
      out[at++] = 0x09;
    }
    const line = lines[i]!;
    out.set(line, at);
    at += line.length;
    out[at++] = 0x0a;
  }
  return out.subarray(0, at);
}
