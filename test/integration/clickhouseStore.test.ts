import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseStore, quote } from '../../src/store/clickhouseStore.js';
import type { Store } from '../../src/store/store.js';
import { testConfig } from '../support/store.js';

describe('the ClickHouse store', () => {
  let store: Store;
  beforeAll(async () => {
    store = createClickHouseStore(testConfig({ storage: { database: 'choir_store_limits' } }).storage);
    await store.command('CREATE DATABASE IF NOT EXISTS choir_store_limits');
    await store.command('CREATE TABLE choir_store_limits.t (x String) ENGINE = MergeTree ORDER BY x');
  });
  afterAll(async () => {
    await store?.close();
  });

  // An alert insert carries its rows in the statement (alertStore.ts): 1,000 alerts pass 256 KiB.
  it('runs statements and queries longer than ClickHouse’s default max_query_size', async () => {
    const rows = Array.from({ length: 3_000 }, (_, i) =>
      JSON.stringify({ x: `row-${i}-é-${'y'.repeat(100)}` }),
    );
    const body = quote(rows.join('\n'));
    expect(body.length).toBeGreaterThan(300_000);
    await store.command(
      `INSERT INTO choir_store_limits.t SELECT * FROM format(JSONEachRow, 'x String', ${body})`,
    );
    const [r] = await store.query<{ n: number }>(
      `SELECT count() AS n FROM choir_store_limits.t WHERE length(${body}) > 0`,
    );
    expect(Number(r!.n)).toBe(3_000);
  });
});
