import { openStore, serve } from '../../src/index.js';
import { createLogger } from '../../src/logger.js';
import { benchConfig, uniqueName } from '../benchConfig.js';
import { cpuMicrosPerEvent, log, peakRssMiB, rate, round, steadyRate, waitForCount } from '../measure.js';
import { timedStore } from '../timedStore.js';

/**
 * Choir's real path, `serve()`: kafkajs consumer ▸ decode ▸ batcher (dedup look-up + insert) ▸ chDB.
 * chDB allows one data directory per process, so the bench opens the store and lends it to serve()
 * in order to count rows through the same engine.
 */
export async function choirEndToEnd(topic: string, n: number, dataDir: string) {
  const config = benchConfig({ dataDir, database: 'bench_e2e', topic, groupId: uniqueName('bench-choir') });
  const logger = createLogger(config.log_level);
  const opened = await openStore(config, logger);
  const timed = timedStore(opened);
  const table = `${opened.database}.token_events`;
  const count = async () =>
    Number((await opened.query<{ n: string }>(`SELECT count() AS n FROM ${table}`))[0]!.n);

  const cpu = process.cpuUsage();
  const started = performance.now();
  const running = await serve(config, logger, { store: timed.store });
  const { firstRowMs, doneMs } = await waitForCount(count, n, started, { label: 'choir_end_to_end' });
  const peak = peakRssMiB();
  const cpuPerEvent = cpuMicrosPerEvent(cpu, n);
  await running.stop();

  const [u] = await opened.query<{ ids: string; rows: string }>(
    `SELECT uniqExact(id) AS ids, count() AS rows FROM ${table}`,
  );
  const unique = Number(u!.ids);
  log(`choir_end_to_end: ${u!.rows} rows, ${unique} unique ids`);
  await opened.close();
  return {
    ...rate(n, doneMs),
    first_row_s: round(firstRowMs / 1000, 3),
    steady_events_per_s: steadyRate(n, firstRowMs, doneMs),
    cpu_us_per_event: cpuPerEvent,
    exactly_once: unique === n && Number(u!.rows) === n,
    decode_workers: config.ingest.decode_workers,
    store_calls: timed.report(),
    peak_rss_mib: peak,
  };
}
