import type { Logger } from '../logger.js';
import type { ChainStamp } from './chain.js';
import { byPartition, type ChainedTable, DEAD_LETTERS_TABLE, EVENTS_TABLE } from './chainedTables.js';
import { type ChainWriter, createChainWriter } from './chainWriter.js';
import type { Store } from './store.js';

export interface ChainOptions {
  /** `storage.writer_id`: one chain per writer; two running writers must not share one. */
  chainId: string;
  /** `security.chain_key`: HMAC key for link signatures, '' for none. */
  key: string;
  logger: Logger;
}

/**
 * The store with every insert of events and dead letters chained (chain.ts): each insert is one
 * link, and the link travels in the inserted rows' own chain columns, so a link and its rows are
 * stored by the same insert or not at all. The batcher needs no change: it already inserts only
 * rows not yet stored, so each link covers exactly the rows its insert adds, attempt by attempt.
 */
export function chainedStore(inner: Store, opts: ChainOptions): Store {
  const writer = <Row>(table: ChainedTable<Row>) =>
    createChainWriter({ store: inner, table, chainId: opts.chainId, key: opts.key, logger: opts.logger });
  return {
    ...inner,
    prepareEvents(rows) {
      EVENTS_TABLE.form.digests(rows);
    },
    insertEvents: chained(writer(EVENTS_TABLE), EVENTS_TABLE, (rows, token, stamp) =>
      inner.insertEvents(rows, token, stamp),
    ),
    insertDeadLetters: chained(writer(DEAD_LETTERS_TABLE), DEAD_LETTERS_TABLE, (rows, token, stamp) =>
      inner.insertDeadLetters(rows, token, stamp),
    ),
  };
}

type Insert<Row> = (rows: Row[], dedupToken: string, stamp?: ChainStamp) => Promise<unknown>;

/** The chained insert resolves to the sequence number of the last link it stored (undefined for no rows). */
function chained<Row>(
  writer: ChainWriter<Row>,
  table: ChainedTable<Row>,
  insert: Insert<Row>,
): (rows: Row[], dedupToken: string) => Promise<number | undefined> {
  // Links of one chain are made one after another: each needs the previous one's hash.
  let last: Promise<unknown> = Promise.resolve();
  return (rows, dedupToken) => {
    const run = last.then(async () => {
      if (rows.length === 0) return undefined;
      const parts = byPartition(rows, table);
      let seq: number | undefined;
      for (let i = 0; i < parts.length; i++) {
        const stamp = await writer.link(parts[i]!);
        try {
          await insert(parts[i]!, parts.length === 1 ? dedupToken : `${dedupToken}:${i}`, stamp);
        } catch (err) {
          writer.forget();
          throw err;
        }
        writer.stored(stamp);
        seq = stamp.link.batch_seq;
      }
      return seq;
    });
    last = run.catch(() => undefined);
    return run;
  };
}
