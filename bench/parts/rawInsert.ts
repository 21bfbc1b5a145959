import { createDecoders, openStore } from '../../src/index.js';
import { type RawRecord, toRows } from '../../src/ingest/toRows.js';
import { createLogger } from '../../src/logger.js';
import { benchConfig } from '../benchConfig.js';
import { log, peakRssMiB, rate, round } from '../measure.js';
import { eventLine } from '../topic.js';

/**
 * What storage alone costs: the rows Choir would write, inserted through the Store interface in
 * Choir's batch size, with no dedup look-up. Each batch is decoded just before its insert and only
 * the insert is on the insert clock; decoding has its own clock. Decoding all N rows up front would
 * leave gigabytes of live heap, and the GC scanning it would be billed to the inserts.
 */
export async function rawInsert(topic: string, n: number, dataDir: string) {
  const config = benchConfig({ dataDir, database: 'bench_raw_insert' });
  const logger = createLogger(config.log_level);
  const store = await openStore(config, logger);
  const decode = createDecoders(config)('choir')!;
  const batchRows = config.ingest.batch_rows;
  const source = `kafka:${topic}`;

  let decodeMs = 0;
  let insertMs = 0;
  let batches = 0;
  for (let from = 0; from < n; from += batchRows, batches++) {
    // The JSON text is the producer's work, not the consumer's: built before either clock starts.
    const records: RawRecord[] = [];
    for (let i = from; i < Math.min(n, from + batchRows); i++) {
      records.push({ text: eventLine(i), origin: { source, partition: 0, offset: i } });
    }
    let t = performance.now();
    const rows = toRows(records, decode, Date.now()).events;
    decodeMs += performance.now() - t;
    if (rows.length !== records.length)
      throw new Error(`raw_insert: ${records.length - rows.length} events did not decode`);
    t = performance.now();
    await store.insertEvents(rows, `bench-raw-${from}`);
    insertMs += performance.now() - t;
    if (batches % 10 === 0) log(`raw_insert: ${from + rows.length}/${n}`);
  }

  const [c] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${store.database}.token_events`);
  if (Number(c!.n) !== n) throw new Error(`raw_insert: ${c!.n} rows stored, expected ${n}`);
  const peak = peakRssMiB();
  await store.close();
  return {
    ...rate(n, insertMs),
    batch_rows: batchRows,
    ms_per_batch: round(insertMs / batches, 1),
    decode: { ...rate(n, decodeMs), ms_per_batch: round(decodeMs / batches, 1) },
    peak_rss_mib: peak,
  };
}
