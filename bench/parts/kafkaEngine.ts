import { openStore } from '../../src/index.js';
import { createLogger } from '../../src/logger.js';
import { benchConfig, uniqueName } from '../benchConfig.js';
import { dropKafkaEngineSql, type EngineOptions, kafkaEngineSql } from '../kafkaEngineSql.js';
import { cpuMicrosPerEvent, log, peakRssMiB, rate, round, steadyRate, waitForCount } from '../measure.js';

/**
 * ClickHouse's own Kafka table engine inside chDB, into a token_events table made by Choir's own
 * migrations. Its consumers run on chDB's background threads while this process only polls.
 */
export async function kafkaEngine(topic: string, n: number, dataDir: string, opts: EngineOptions) {
  const config = benchConfig({ dataDir, database: 'bench_kafka_engine' });
  const logger = createLogger(config.log_level);
  const store = await openStore(config, logger);
  const db = store.database;
  const count = async () =>
    Number((await store.query<{ n: string }>(`SELECT count() AS n FROM ${db}.token_events`))[0]!.n);

  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const sql of kafkaEngineSql(db, topic, uniqueName('bench-engine'), opts)) await store.command(sql);
  const { firstRowMs, doneMs } = await waitForCount(count, n, started, { label: 'clickhouse_kafka_engine' });
  const peak = peakRssMiB();
  const cpuPerEvent = cpuMicrosPerEvent(cpu, n);
  // Stop the engine's consumers before reading the result, so nothing more arrives.
  for (const sql of dropKafkaEngineSql(db)) await store.command(sql);

  const [u] = await store.query<{ ids: string; rows: string }>(
    `SELECT uniqExact(id) AS ids, count() AS rows FROM ${db}.token_events`,
  );
  log(`clickhouse_kafka_engine: ${u!.rows} rows, ${u!.ids} unique ids`);
  await store.close();
  return {
    ...rate(n, doneMs),
    first_row_s: round(firstRowMs / 1000, 3),
    steady_events_per_s: steadyRate(n, firstRowMs, doneMs),
    cpu_us_per_event: cpuPerEvent,
    exactly_once: Number(u!.ids) === n && Number(u!.rows) === n,
    settings: {
      kafka_num_consumers: opts.consumers,
      kafka_thread_per_consumer: opts.threadPerConsumer ? 1 : 0,
      kafka_max_block_size: opts.maxBlockSize,
      kafka_flush_interval_ms: opts.flushIntervalMs,
      kafka_format: 'JSONAsString',
    },
    peak_rss_mib: peak,
  };
}
