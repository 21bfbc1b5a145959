import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';

/** chDB takes one data directory per process; each test file (own process) gets a temp one. */
const dataDir = mkdtempSync(join(tmpdir(), 'choir-test-'));
let n = 0;

/** A config on a fresh database: the server at CLICKHOUSE_URL when set, embedded chDB otherwise. */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  const database = `t_${process.pid}_${++n}`;
  const base = loadConfig({ env: { CLICKHOUSE_URL: process.env.CLICKHOUSE_URL } });
  return loadConfig({
    env: { CLICKHOUSE_URL: process.env.CLICKHOUSE_URL },
    overrides: {
      log_level: 'warn',
      ...overrides,
      storage: { data_dir: join(dataDir, 'data'), database, ...(overrides.storage as object) },
      ingest: { ...base.ingest, batch_ms: 100, ...(overrides.ingest as object) },
      http: { enabled: false, port: 0, ...(overrides.http as object) },
      security: { fingerprint_key: 'test-fingerprint-key', ...(overrides.security as object) },
    },
  });
}

export const testLogger = () => createLogger(process.env.TEST_LOG_LEVEL ?? 'warn');

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}
