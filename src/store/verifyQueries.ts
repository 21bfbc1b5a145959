import { CANONICAL_SETTINGS_SQL } from './canonicalForm.js';
import type { ChainedTable } from './chainedTables.js';
import type { StoredBatch } from './checkLinks.js';
import { quote } from './clickhouseStore.js';
import type { Store } from './store.js';

/** The verifier's SQL: a cheap index of the links, the expensive hashing of their rows, and rows in no chain. */

type Reader = Pick<Store, 'query' | 'database'>;

/** One link as the index sees it: its rows, latest batch_time and (any) batch_hash. */
export interface IndexRow {
  chain_id: string;
  seq: number;
  n: number;
  t: number;
  hash: string;
}

/** Consecutive batches of one chain, hashed by one query. */
export interface Segment {
  chainId: string;
  lo: number;
  hi: number;
  rows: number;
}

/** Every link of the table, cheaply: only the small chain columns are read. */
export function linkIndex(store: Reader, table: ChainedTable<never>): Promise<IndexRow[]> {
  return store.query<IndexRow>(
    `SELECT chain_id, batch_seq AS seq, count() AS n, toUnixTimestamp64Milli(max(batch_time)) AS t,
            anyIf(batch_hash, batch_hash != '') AS hash
     FROM ${store.database}.${table.name} WHERE chain_id != ''
     GROUP BY chain_id, batch_seq ORDER BY chain_id, batch_seq`,
  );
}

type HashedBatch = StoredBatch & { chain_id: string };

/** Per batch of the page: row count, link fields, and the content hash recomputed from the stored rows. */
export async function hashBatches(
  store: Reader,
  table: ChainedTable<never>,
  page: Segment[],
): Promise<HashedBatch[]> {
  const where = page
    .map((s) => `(chain_id = ${quote(s.chainId)} AND batch_seq BETWEEN ${s.lo} AND ${s.hi})`)
    .join(' OR ');
  // A row is named when its stored row_hash no longer matches its content; the batch hash is what
  // proves a change either way.
  const rows = await store.query<{
    chain_id: string;
    seq: number;
    n: number;
    rows_min: number;
    rows_max: number;
    time_min: number;
    time_max: number;
    links: [string, string, string][];
    content: string;
    strays: number;
    stray_ids: string[];
  }>(
    `SELECT chain_id, batch_seq AS seq, count() AS n,
       min(batch_rows) AS rows_min, max(batch_rows) AS rows_max,
       toUnixTimestamp64Milli(min(batch_time)) AS time_min, toUnixTimestamp64Milli(max(batch_time)) AS time_max,
       groupUniqArrayIf(4)((prev_hash, batch_hash, signature), prev_hash != '' OR batch_hash != '' OR signature != '') AS links,
       lower(hex(SHA256(arrayStringConcat(arrayMap(x -> hex(x), arraySort(groupArray(d))))))) AS content,
       countIf(stray) AS strays,
       groupArrayIf(20)(id, stray) AS stray_ids
     FROM (
       SELECT chain_id, batch_seq, batch_rows, batch_time, prev_hash, batch_hash, signature, id,
              ${table.form.sqlDigest} AS d,
              reinterpretAsUInt32(substring(d, 1, 4)) != row_hash AS stray
       FROM ${store.database}.${table.name} WHERE ${where}
     )
     GROUP BY chain_id, batch_seq ORDER BY chain_id, batch_seq
     ${CANONICAL_SETTINGS_SQL}`,
  );
  return rows.map((r) => ({
    chain_id: r.chain_id,
    seq: Number(r.seq),
    n: Number(r.n),
    batch_rows: Number(r.rows_min),
    batch_time: Number(r.time_min),
    consistent: Number(r.rows_min) === Number(r.rows_max) && Number(r.time_min) === Number(r.time_max),
    links: r.links.map(([prev_hash, batch_hash, signature]) => ({ prev_hash, batch_hash, signature })),
    content: r.content,
    strays: Number(r.strays),
    stray_ids: r.stray_ids,
  }));
}

export async function unchained(
  store: Reader,
  table: ChainedTable<never>,
  from: number,
  to: number,
): Promise<{ n: number; ids: string[] }> {
  const col = table.ingestedColumn;
  const range = [
    Number.isFinite(from) ? `${col} >= fromUnixTimestamp64Milli(${Math.floor(from)}, 'UTC')` : '',
    Number.isFinite(to) ? `${col} <= fromUnixTimestamp64Milli(${Math.ceil(to)}, 'UTC')` : '',
  ].filter(Boolean);
  const [r] = await store.query<{ n: number; ids: string[] }>(
    `SELECT count() AS n, groupArray(20)(id) AS ids FROM ${store.database}.${table.name}
     WHERE chain_id = ''${range.map((c) => ` AND ${c}`).join('')}`,
  );
  return { n: Number(r?.n ?? 0), ids: r?.ids ?? [] };
}
