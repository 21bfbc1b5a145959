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
 */
export function insertPayload(lines: readonly Buffer[], chain?: ChainStamp): Buffer {
  const parts: Buffer[] = [];
  if (chain) {
    const l = chain.link;
    const common = `${tsvString(l.chain_id)}\t${l.batch_seq}\t${l.batch_rows}\t${l.batch_time}\t`;
    const first = `${common}${l.prev_hash}\t${l.batch_hash}\t${l.signature}\t`;
    const rest = `${common}\t\t\t`;
    // The chain columns of all rows as one text, each row's ending at its tab.
    let prefixes = '';
    for (let i = 0; i < lines.length; i++) prefixes += `${i === 0 ? first : rest}${chain.rowHashes[i]}\t`;
    const bytes = Buffer.from(prefixes);
    const firstBytes = Buffer.byteLength(first);
    const restBytes = Buffer.byteLength(rest);
    let from = 0;
    for (let i = 0; i < lines.length; i++) {
      const to = bytes.indexOf(0x09, from + (i === 0 ? firstBytes : restBytes)) + 1;
      parts.push(bytes.subarray(from, to), lines[i]!, NEWLINE);
      from = to;
    }
  } else {
    for (const line of lines) parts.push(line, NEWLINE);
  }
  return Buffer.concat(parts);
}

const NEWLINE = Buffer.from('\n');
