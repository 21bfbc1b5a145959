import * as crypto from 'node:crypto';

/** How one stored column is written into the canonical form. */
export type FieldKind = 'string' | 'int' | 'ms' | 'nullable_ms' | 'strings' | 'map';

export interface CanonicalColumn {
  name: string;
  kind: FieldKind;
}

/**
 * The canonical form of a chained row, owned here for both sides: the writer hashes rows in Node
 * before they are inserted, the verifier hashes the stored rows inside ClickHouse. Both derive
 * from one column list, so they produce the same bytes.
 *
 * A row's canonical bytes are a sequence of texts, each followed by the byte 0xFF, taken from the
 * columns in the listed order:
 * - `string`: the UTF-8 text;
 * - `int`: the integer in decimal (`-1`, `200`);
 * - `ms`: a DateTime64(3) as decimal epoch milliseconds;
 * - `nullable_ms`: as `ms`, or the empty text for NULL;
 * - `strings` (Array(String)): the element count in decimal, then every element;
 * - `map` (Map(String, String)): the entry count, then every key and its value, in stored order
 *   (the order Choir inserted them, which ClickHouse keeps).
 * Example: id `e1`, time 5, scopes `[a]` → `e1 FF 5 FF 1 FF a FF`.
 *
 * 0xFF never occurs in UTF-8, and Choir only writes UTF-8 (JavaScript strings), so the texts
 * split back unambiguously; a stored text holding 0xFF was not written by Choir and the verifier
 * flags its row (`sqlForeign`). A separator byte rather than length prefixes keeps the SQL
 * side to one concat of the columns, which is most of what verification costs.
 * The row digest is SHA-256 over those bytes; the digest of a whole batch is in chain.ts.
 */
export interface CanonicalForm<Row> {
  readonly columns: readonly CanonicalColumn[];
  /** The canonical bytes of one row. */
  encode(row: Row): Buffer;
  /** SHA-256 of the row's canonical bytes. */
  digest(row: Row): Buffer;
  /** The digests of many rows, as `digest` gives them, computed the fast way. */
  digests(rows: Row[]): Buffer[];
  /** ClickHouse expression for the same digest over the stored columns: FixedString(32). */
  readonly sqlDigest: string;
  /** ClickHouse expression, true when a stored text holds 0xFF (so the row cannot be Choir's). */
  readonly sqlForeign: string;
}

const SEP = 0xff;
const SEP_BYTE = Buffer.from([SEP]);
/** Rows joined into one string at a time: well below V8's string limit even for large rows. */
const CHUNK = 1000;

/** One-shot hashing where Node has it (20.12+): no Hash object per row. */
const sha256: (data: Buffer) => Buffer =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'buffer')
    : (data) => crypto.createHash('sha256').update(data).digest();

export function canonicalForm<Row>(columns: readonly CanonicalColumn[]): CanonicalForm<Row> {
  for (const c of columns) {
    if (!/^[a-z_][a-z0-9_]*$/.test(c.name))
      throw new Error(`canonical column "${c.name}" is not a plain name`);
  }
  const names = columns.map((c) => c.name);
  const kinds = columns.map((c) => c.kind);

  /** Appends every text of the row, in order, to `out`. */
  const texts = (row: Row, out: string[]): void => {
    const r = row as Record<string, unknown>;
    for (let i = 0; i < names.length; i++) {
      const v = r[names[i]!];
      switch (kinds[i]) {
        case 'string':
          out.push(v as string);
          break;
        case 'int':
        case 'ms':
          out.push(String(v as number));
          break;
        case 'nullable_ms':
          out.push(v === null || v === undefined ? '' : String(v as number));
          break;
        case 'strings': {
          const a = v as string[];
          out.push(String(a.length));
          for (const s of a) out.push(s);
          break;
        }
        case 'map': {
          const m = v as Record<string, string>;
          const at = out.push('');
          let n = 0;
          // for…in: the order the TSV encoder wrote the entries in, which the Map column keeps.
          for (const k in m) {
            out.push(k, m[k]!);
            n++;
          }
          out[at - 1] = String(n);
          break;
        }
      }
    }
  };

  /** Exact for every row, text by text: the reference the batch path below must equal. */
  const encode = (row: Row): Buffer => {
    const t: string[] = [];
    texts(row, t);
    return Buffer.concat(t.flatMap((text) => [Buffer.from(text, 'utf8'), SEP_BYTE]));
  };

  /**
   * The hot path: the texts of many rows joined with NUL into one string, encoded once, the NULs
   * turned into 0xFF while counting them off row by row, each row's bytes hashed in place. Exact
   * unless a text itself holds a NUL, which the total count reveals; then those rows go text by text.
   */
  const digests = (rows: Row[]): Buffer[] => {
    const out = new Array<Buffer>(rows.length);
    for (let from = 0; from < rows.length; from += CHUNK) {
      const to = Math.min(rows.length, from + CHUNK);
      const counts = new Int32Array(to - from);
      const all: string[] = [];
      for (let i = from; i < to; i++) {
        const before = all.length;
        texts(rows[i]!, all);
        counts[i - from] = all.length - before;
      }
      all.push(''); // join() puts a NUL after every text, the last one included
      const joined = all.join('\0');
      const buf = Buffer.from(joined, 'utf8');
      let p = 0;
      let start = 0;
      for (let i = from; i < to && p !== -1; i++) {
        for (let n = counts[i - from]!; n > 0 && p !== -1; n--) {
          p = buf.indexOf(0, p);
          if (p !== -1) buf[p++] = SEP;
        }
        if (p !== -1) out[i] = sha256(buf.subarray(start, p));
        start = p;
      }
      if (p === -1 || start !== buf.length) {
        for (let i = from; i < to; i++) out[i] = sha256(encode(rows[i]!));
      }
    }
    return out;
  };

  return {
    columns,
    encode,
    digest: (row) => sha256(encode(row)),
    digests,
    sqlDigest: `SHA256(concat(${columns.map(sqlTexts).join(', ')}))`,
    sqlForeign: columns
      .map(sqlHoldsSep)
      .filter((e) => e !== null)
      .join(' OR '),
  };
}

const S = `'\\xFF'`;

function sqlTexts({ name, kind }: CanonicalColumn): string {
  switch (kind) {
    case 'string':
      return `${name}, ${S}`;
    case 'int':
      return `toString(${name}), ${S}`;
    case 'ms':
      return `toString(toUnixTimestamp64Milli(${name})), ${S}`;
    case 'nullable_ms':
      return `ifNull(toString(toUnixTimestamp64Milli(${name})), ''), ${S}`;
    case 'strings':
      return `toString(length(${name})), ${S}, arrayStringConcat(arrayMap(x -> concat(x, ${S}), ${name}))`;
    case 'map':
      return (
        `toString(length(${name})), ${S}, ` +
        `arrayStringConcat(arrayMap((k, v) -> concat(k, ${S}, v, ${S}), mapKeys(${name}), mapValues(${name})))`
      );
  }
}

function sqlHoldsSep({ name, kind }: CanonicalColumn): string | null {
  switch (kind) {
    case 'string':
      return `position(${name}, ${S}) > 0`;
    case 'strings':
      return `arrayExists(x -> position(x, ${S}) > 0, ${name})`;
    case 'map':
      return `arrayExists(x -> position(x, ${S}) > 0, arrayConcat(mapKeys(${name}), mapValues(${name})))`;
    default:
      return null; // numbers are decimal digits
  }
}
