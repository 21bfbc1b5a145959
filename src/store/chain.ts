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

/** SHA-256 over the row digests sorted bytewise; the verifier computes the same in SQL. */
export function contentHash(digests: Buffer[]): string {
  const n = digests.length;
  if (n > MAX_SORT_ROWS) throw new Error(`a link holds at most ${MAX_SORT_ROWS} rows, not ${n}`);
  // Sort numbers, not Buffers: each key is a digest's first 32 bits above its index (exact in a
  // double), so a native sort without a comparator orders them; digests sharing those 32 bits are
  // put in order after, by whole comparison.
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = digests[i]!.readUInt32BE(0) * MAX_SORT_ROWS + i;
  keys.sort();
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = keys[i]! % MAX_SORT_ROWS;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    const prefix = Math.floor(keys[i]! / MAX_SORT_ROWS);
    while (j < n && Math.floor(keys[j]! / MAX_SORT_ROWS) === prefix) j++;
    if (j - i > 1) {
      const run = order.slice(i, j).sort((a, b) => Buffer.compare(digests[a]!, digests[b]!));
      for (let k = i; k < j; k++) order[k] = run[k - i]!;
    }
    i = j;
  }
  const all = Buffer.allocUnsafe(32 * n);
  for (let i = 0; i < n; i++) digests[order[i]!]!.copy(all, 32 * i);
  return createHash('sha256').update(all.toString('hex').toUpperCase()).digest('hex');
}

/** 2^21: room for a row index below a 32-bit prefix in a double's 53 exact bits (batch_rows ≤ 1,000,000). */
const MAX_SORT_ROWS = 2 ** 21;

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

export function rowLocator(digest: Buffer): number {
  return digest.readUInt32LE(0);
}

/** The link after `head` for a batch of rows given by their digests (in insert order). */
export function linkBatch(
  digests: Buffer[],
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
