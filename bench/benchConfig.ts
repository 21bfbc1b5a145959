import { type Config, loadConfig } from '../src/config/config.js';

export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');

/**
 * Choir's configuration with defaults everywhere except where the bench must differ: its own
 * chDB directory and database, the bench topic, a fresh group, no HTTP. Batch sizes stay the
 * shipped defaults, because those are what is being measured.
 */
export function benchConfig(opts: {
  dataDir: string;
  database: string;
  topic?: string;
  groupId?: string;
}): Config {
  return loadConfig({
    // The one setting a run may vary: decode threads, to compare against decoding on the main thread.
    env: { CHOIR_DECODE_WORKERS: process.env.CHOIR_DECODE_WORKERS },
    overrides: {
      log_level: process.env.BENCH_LOG_LEVEL ?? 'warn',
      storage: { data_dir: opts.dataDir, database: opts.database },
      kafka: opts.topic
        ? {
            brokers: BROKERS,
            topics: [opts.topic],
            group_id: opts.groupId ?? 'choir-bench',
            client_id: 'choir-bench',
          }
        : {},
      http: { enabled: false },
      security: { fingerprint_key: 'choir-bench-fingerprint-key' },
    },
  });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
