import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseStore } from '../../src/store/clickhouseStore.js';
import { applyRetention, MIGRATIONS, migrate } from '../../src/store/migrations.js';
import type { Store } from '../../src/store/store.js';
import { testConfig, testLogger } from '../support/store.js';

describe('migrations', () => {
  let store: Store;
  beforeAll(() => {
    store = createClickHouseStore(testConfig().storage);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('apply every version once, in order, and are a no-op the second time', async () => {
    const versions = MIGRATIONS.map((m) => m.version).sort((a, b) => a - b);
    expect(await migrate(store, testLogger())).toEqual(versions);
    expect(await migrate(store, testLogger())).toEqual([]);
    const recorded = await store.query<{ version: number }>(
      `SELECT version FROM ${store.database}.schema_migrations FINAL ORDER BY version`,
    );
    expect(recorded.map((r) => r.version)).toEqual(versions);
  });

  it('set retention as a TTL on ingestion time, and remove it again', async () => {
    const ddl = async () =>
      (
        await store.query<{ q: string }>(
          `SELECT create_table_query AS q FROM system.tables WHERE database = '${store.database}' AND name = 'token_events'`,
        )
      )[0]!.q;
    await applyRetention(store, 30);
    expect(await ddl()).toMatch(/TTL toDateTime\(ingested_at\) \+ toIntervalDay\(30\)/);
    await applyRetention(store, 0);
    expect(await ddl()).not.toMatch(/TTL/);
  });
});
