import type { Logger } from '../logger.js';
import { type ChainStamp, EMPTY_HEAD, type Head, linkBatch } from './chain.js';
import type { ChainedTable } from './chainedTables.js';
import type { Store } from './store.js';

export interface ChainWriterOptions<Row> {
  /** Used only to read the head of the chain; inserts are the caller's. */
  store: Pick<Store, 'query' | 'database'>;
  table: ChainedTable<Row>;
  chainId: string;
  /** HMAC key for signatures; '' leaves links unsigned. */
  key: string;
  logger: Logger;
}

/** One writer's chain in one table: makes the next link, and learns from the caller what was stored. */
export interface ChainWriter<Row> {
  /** The link for these rows after the current head (read from storage when not known). */
  link(rows: Row[]): Promise<ChainStamp>;
  /** The insert carrying `stamp` was acknowledged: it is the new head. */
  stored(stamp: ChainStamp): void;
  /** An insert failed and may or may not have landed: read the head from storage before the next link. */
  forget(): void;
}

export function createChainWriter<Row>(opts: ChainWriterOptions<Row>): ChainWriter<Row> {
  const { store, table, chainId, key } = opts;
  const log = opts.logger.child({ module: 'chain', table: table.name, chain_id: chainId });
  let head: Head | null = null;

  async function storedHead(): Promise<Head> {
    const h = await chainHead(store, table.name, chainId);
    log.debug({ seq: h.seq }, 'chain continues from the last stored link');
    return h;
  }

  return {
    async link(rows) {
      head ??= await storedHead();
      const digests = table.form.digests(rows);
      let time = 0;
      for (const r of rows) {
        const t = table.ingestedAt(r);
        if (t > time) time = t;
      }
      return linkBatch(digests, { table: table.name, chainId, head, time, key });
    },
    stored(stamp) {
      head = { seq: stamp.link.batch_seq, hash: stamp.link.batch_hash };
    },
    forget() {
      head = null;
    },
  };
}

/** The last link of `chainId` stored in `table` (its first row carries the hash); EMPTY_HEAD before any. */
export async function chainHead(
  store: Pick<Store, 'query' | 'database'>,
  table: string,
  chainId: string,
): Promise<Head> {
  const [last] = await store.query<{ seq: number; hash: string }>(
    `SELECT batch_seq AS seq, batch_hash AS hash FROM ${store.database}.${table}
     WHERE chain_id = {chain:String} AND batch_hash != '' ORDER BY batch_seq DESC LIMIT 1`,
    { chain: chainId },
  );
  return last ? { seq: Number(last.seq), hash: last.hash } : EMPTY_HEAD;
}
