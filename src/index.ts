import { createAuthenticator } from './api/auth.js';
import { type ApiOptions, startApi } from './api/server.js';
import type { Config } from './config/config.js';
import { resolveFingerprintKey } from './config/fingerprintKey.js';
import { type Detection, startDetection } from './detect/startDetection.js';
import type { Decoder } from './events/decode.js';
import { decodersFor } from './events/decoders.js';
import { Batcher, type BatcherOptions } from './ingest/batcher.js';
import { createDecodePool } from './ingest/decodePool.js';
import { createKafkaConsumer } from './ingest/kafkaClient.js';
import { startKafkaSource } from './ingest/kafkaSource.js';
import type { Logger } from './logger.js';
import { chainedStore } from './store/chainedStore.js';
import { createClickHouseStore } from './store/clickhouseStore.js';
import { applyRetention, migrate } from './store/migrations.js';
import type { Store } from './store/store.js';

/**
 * Open storage and bring its schema up to date (migrations run at every start). Every insert of
 * events and dead letters through the returned store is a link of this writer's hash chain.
 */
export async function openStore(config: Config, logger: Logger): Promise<Store> {
  const store = createClickHouseStore(config.storage);
  try {
    await migrate(store, logger.child({ module: 'migrate' }));
    await applyRetention(store, config.storage.retention_days);
  } catch (err) {
    await store.close();
    throw err;
  }
  return chainedStore(store, {
    chainId: config.storage.writer_id,
    key: config.security.chain_key,
    logger,
  });
}

/** One decoder per input format (see events/decoders.ts), keyed with this deployment's fingerprint key. */
export function createDecoders(config: Config): (format: string) => Decoder | null {
  return decodersFor(resolveFingerprintKey(config));
}

export function createBatcher(
  config: Config,
  store: Store,
  logger: Logger,
  /** Detection, fed what the batcher stores and told what it accepts. */
  detection?: Pick<BatcherOptions, 'onStored' | 'onAccepted'>,
): Batcher {
  return new Batcher({
    store,
    logger,
    batchRows: config.ingest.batch_rows,
    batchMs: config.ingest.batch_ms,
    maxBackoffMs: config.ingest.max_backoff_ms,
    onStored: detection?.onStored,
    onAccepted: detection?.onAccepted,
  });
}

export interface Running {
  apiUrl: string | null;
  /** The ingest path every source shares: in-process sources (`choir demo`) write here too. */
  batcher: Batcher;
  decoderFor: (format: string) => Decoder | null;
  stop(): Promise<void>;
}

/**
 * `choir serve`: HTTP ingestion, and Kafka when brokers are configured, into one batcher and store;
 * detection (on by default) reads every newly stored batch.
 */
export async function serve(config: Config, logger: Logger, deps: { store?: Store } = {}): Promise<Running> {
  const store = deps.store ?? (await openStore(config, logger));
  let detection: Detection | null = null;
  try {
    // Before any source starts: rules must load, and state be rebuilt before new events arrive.
    if (config.detect.enabled)
      detection = await startDetection({ config, store, logger, rebuild: true, watch: true });
  } catch (err) {
    if (!deps.store) await store.close();
    throw err;
  }
  const batcher = createBatcher(config, store, logger, detection ?? undefined);
  const decoderFor = createDecoders(config);
  const stops: (() => Promise<void>)[] = [];

  if (config.kafka.brokers.length > 0) {
    const consumer = createKafkaConsumer({
      brokers: config.kafka.brokers,
      clientId: config.kafka.client_id,
      groupId: config.kafka.group_id,
      topics: config.kafka.topics,
      logger,
    });
    const pool = createDecodePool({
      fingerprintKey: resolveFingerprintKey(config),
      workers: config.ingest.decode_workers,
      logger,
    });
    const source = startKafkaSource({
      consumer,
      batcher,
      logger,
      // Room for the batch being inserted, the next one being encoded and fetches decoded meanwhile.
      maxPendingRows: config.ingest.batch_rows * 4,
      maxPartitionSkewMs: config.kafka.max_partition_skew_ms,
      decode: (topic, batch) => pool.decode(config.kafka.formats[topic] ?? 'choir', batch),
    });
    await source.started;
    stops.push(
      () => source.stop(),
      () => pool.close(),
    );
    logger.info({ brokers: config.kafka.brokers, topics: config.kafka.topics }, 'kafka source running');
  }

  let apiUrl: string | null = null;
  if (config.http.enabled) {
    if (config.http.api_keys.length === 0) {
      logger.warn(
        'no http.api_keys configured: every ingest request will be refused; run `choir keys create`',
      );
    }
    const api = await startApi({
      host: config.http.host,
      port: config.http.port,
      maxBodyBytes: config.http.max_body_bytes,
      authenticate: createAuthenticator(config.http.api_keys),
      decoderFor,
      batcher,
      logger,
      maxPendingRows: config.ingest.batch_rows * 10,
    } satisfies ApiOptions);
    apiUrl = api.url;
    stops.push(() => api.close());
  }

  return {
    apiUrl,
    batcher,
    decoderFor,
    async stop() {
      // Sources first, so nothing new arrives; then drain what was accepted; storage last.
      for (const stop of stops) await stop();
      await batcher.close();
      await detection?.stop();
      if (!deps.store) await store.close();
    },
  };
}
