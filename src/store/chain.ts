import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Links of the tamper-evident chain, in the manner of CloudTrail's digest chain: every batch a
 * writer stores is one link, whose hash covers the batch's rows and the previous link's hash.
 * Pure functions: the writer (chainWriter.ts) and the verifier (verify.ts) both use them, and any
 * table whose rows have a canonical form (canonicalForm.ts) can be chained with them.
 *
 *   content_hash = SHA-256( row digests sorted bytewise, each as 64 uppercase hex digits, concatenated )
 *   batch_hash   = SHA-256( "choir-chain/1", table, chain_id, batch_seq, batch_rows, batch_time,
 *                           prev_hash, content_hash — each as `<utf-8 length>:<text>`, numbers in decimal )
 *   signature    = hex HMAC-SHA256(security.chain_key, batch_hash), or '' when no key is configured
 *
 * Every row of a link carries chain_id, batch_seq, batch_rows, batch_time and its own row_hash; the
 * first row of the insert also carries prev_hash, batch_hash and signature (the others leave them
 * empty): one copy per insert is enough, since the insert stores all its rows or none, and three
 * 64-character hashes on every row would cost the hot path more than all the hashing.
 *
 * Sorting the digests makes the hash independent of the order ClickHouse returns rows in, so the
 * verifier can compute it with one GROUP BY; hex because ClickHouse drops trailing zero bytes when it
 * turns a FixedString digest into a String. Link hashes are lowercase hex; the first link's prev_hash is GENESIS.
 */

/** The chain columns every chained table carries after its own, in insert order. */
export const CHAIN_COLUMNS = [
  'chain_id',
  'batch_seq',
  'batch_rows',
  'batch_time',
  'prev_hash',
  'batch_hash',
  'signature',
  'row_hash',
] as const;

export const GENESIS = '0'.repeat(64);
const VERSION = 'choir-chain/1';

/** The last link a writer stored: the next one continues from it. */
export interface Head {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: Head = { seq: 0, hash: GENESIS };

export interface Link {
  table: string;
  chain_id: string;
  batch_seq: number;
  batch_rows: number;
  /**
   * Latest ingestion time among the batch's rows (epoch ms). Derived from the rows, so a link is a
   * pure function of its rows and its predecessor: a retried insert carries the very same link.
   */
  batch_time: number;
  prev_hash: string;
  content_hash: string;
  batch_hash: string;
  signature: string;
}

/** What an insert writes into the chain columns: the link, and per row (in insert order) its locator. */
export interface ChainStamp {
  link: Link;
  /** First 4 bytes of each row's digest, little-endian: names a changed row; the hash is what proves it. */
  rowHashes: Uint32Array;
}

/**
 * SHA-256 over the row digests sorted bytewise; the verifier computes the same in SQL. Digests come
 * as lowercase hex of equal length, whose plain string order is their byte order.
 */
export function contentHash(digests: readonly string[]): string {
  const sorted = sortedDigests(digests);
  let size = 0;
  for (const d of sorted) size += d.length;
  if (hexText.length < size) hexText = Buffer.allocUnsafe(Math.ceil(size * 1.25));
  const text = hexText;
  let at = 0;
  for (const d of sorted) at += text.write(d, at, 'latin1');
  // By table: a test per byte mispredicts on random hex and cost three times as much.
  for (let i = 0; i < at; i++) text[i] = UPPER[text[i]!]!;
  return createHash('sha256').update(text.subarray(0, at)).digest('hex');
}

/**
 * contentHash's text, uppercased in place, in one buffer kept between calls: joining and
 * uppercasing 20,000 digests as strings cost ~10 ms a batch (BufferPool says why fresh memory costs
 * so much).
 */
let hexText = Buffer.alloc(0);

/** Each Latin-1 byte, ASCII letters uppercased. */
const UPPER = Uint8Array.from({ length: 256 }, (_, c) => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c));

/** Room for a row's index below a digest's first 32 bits in one exact double. */
const INDEX_SPACE = 2 ** 20;

/**
 * Digests in their string order, sorted by their first 32 bits as numbers (a native numeric sort
 * of one typed array) and, for the rare ties, by the whole text: sorting 20,000 hex strings as
 * strings cost a millisecond a thousand rows.
 */
function sortedDigests(digests: readonly string[]): string[] {
  const n = digests.length;
  if (n >= INDEX_SPACE) return [...digests].sort();
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = leading32(digests[i]!) * INDEX_SPACE + i;
  keys.sort();
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = digests[keys[i]! % INDEX_SPACE]!;
  const prefix = (i: number) => Math.floor(keys[i]! / INDEX_SPACE);
  for (let start = 0, i = 1; i <= n; i++) {
    if (i < n && prefix(i) === prefix(start)) continue;
    if (i - start > 1) out.splice(start, i - start, ...out.slice(start, i).sort());
    start = i;
  }
  return out;
}

export function linkHash(l: Omit<Link, 'batch_hash' | 'signature'>): string {
  const fields = [
    VERSION,
    l.table,
    l.chain_id,
    String(l.batch_seq),
    String(l.batch_rows),
    String(l.batch_time),
    l.prev_hash,
    l.content_hash,
  ];
  return createHash('sha256')
    .update(fields.map((f) => `${Buffer.byteLength(f)}:${f}`).join(''))
    .digest('hex');
}

export function signHash(batchHash: string, key: string): string {
  return key ? createHmac('sha256', key).update(batchHash).digest('hex') : '';
}

export function signatureValid(batchHash: string, signature: string, key: string): boolean {
  const expected = Buffer.from(signHash(batchHash, key), 'hex');
  const got = Buffer.from(signature, 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** The digest's first 4 bytes read little-endian (as ClickHouse's reinterpretAsUInt32 does). */
export function rowLocator(digest: string): number {
  const v = leading32(digest);
  return (v & 0xff) * 0x1000000 + ((v >>> 8) & 0xff) * 0x10000 + ((v >>> 16) & 0xff) * 0x100 + (v >>> 24);
}

/**
 * The digest's first 4 bytes read big-endian: its first 8 hex digits, read a character at a time
 * (slices and parseInt cost ~0.1 µs a row more, a fifth of a link's work).
 */
function leading32(digest: string): number {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const c = digest.charCodeAt(i);
    v = v * 16 + (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);
  }
  return v;
}

/** The link after `head` for a batch of rows given by their digests (in insert order). */
export function linkBatch(
  digests: readonly string[],
  opts: { table: string; chainId: string; head: Head; time: number; key: string },
): ChainStamp {
  const fields = {
    table: opts.table,
    chain_id: opts.chainId,
    batch_seq: opts.head.seq + 1,
    batch_rows: digests.length,
    batch_time: opts.time,
    prev_hash: opts.head.hash,
    content_hash: contentHash(digests),
  };
  const batchHash = linkHash(fields);
  const rowHashes = new Uint32Array(digests.length);
  for (let i = 0; i < digests.length; i++) rowHashes[i] = rowLocator(digests[i]!);
  return {
    link: { ...fields, batch_hash: batchHash, signature: signHash(batchHash, opts.key) },
    rowHashes,
  };
}
