import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { createClickHouseStore, quote, storedIdsQuery } from '../../src/store/clickhouseStore.js';
import type { Store } from '../../src/store/store.js';
import { eventRow } from '../support/generate.js';
import { testConfig, testLogger } from '../support/store.js';

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

describe('an insert', () => {
  it('retried with the same token after a lost acknowledgement is stored once', async () => {
    const store = await openStore(testConfig(), testLogger());
    const rows = [
      eventRow({ id: 'e1', time: Date.UTC(2026, 0, 1) }),
      eventRow({ id: 'e2', time: Date.UTC(2026, 0, 1) }),
    ];
    await store.insertEvents(rows, 'batch-1');
    await store.insertEvents(rows, 'batch-1');
    const [c] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${store.database}.token_events`);
    expect(Number(c!.n)).toBe(2);
    await store.close();
  });

  // Embedded inserts pass through a reused file (insertFiles.ts): a batch shorter than the one
  // before must not be followed by what is left of the longer one.
  it('after a longer one stores its own rows only', async () => {
    const store = await openStore(testConfig(), testLogger());
    const at = Date.UTC(2026, 0, 1);
    const long = Array.from({ length: 500 }, (_, i) => eventRow({ id: `long-${i}`, time: at }));
    await store.insertEvents(long, 'batch-long');
    await store.insertEvents([eventRow({ id: 'short-0', time: at })], 'batch-short');
    const [c] = await store.query<{ n: number; short: number }>(
      `SELECT count() AS n, countIf(id LIKE 'short-%') AS short FROM ${store.database}.token_events`,
    );
    expect({ n: Number(c!.n), short: Number(c!.short) }).toEqual({ n: 501, short: 1 });
    await store.close();
  });
});

describe('the dedup look-up', () => {
  // The sort key is hour first, then token: without the ids_by_time projection a look-up of a few
  // seconds reads every granule of its hour, and at 10,000 events/s an hour holds 36M rows.
  it('reads only the granules of its own time range, however full the hour is', async () => {
    const store = await openStore(testConfig(), testLogger());
    const db = store.database;
    const hour = Date.UTC(2026, 0, 1, 10);
    // 100,000 events over 50 minutes of one hour, 500 tokens, merged into one part.
    for (let b = 0; b < 5; b++)
      await store.command(
        `INSERT INTO ${db}.token_events (id, type, time, token_id)
         SELECT concat('evt-', toString(${b * 20_000} + number)), 'token.used',
                fromUnixTimestamp64Milli(toInt64(${hour} + (${b * 20_000} + number) * 30), 'UTC'),
                concat('tok-', toString(cityHash64(number) % 500))
         FROM numbers(20000)`,
      );
    await store.command(`OPTIMIZE TABLE ${db}.token_events FINAL`);
    // A batch of 2,000 ids over one minute, half stored.
    const ids = Array.from({ length: 2_000 }, (_, i) => `evt-${99_000 + i}`);
    const range = { from: hour + 99_000 * 30, to: hour + 101_000 * 30 };
    expect(await store.storedEventIds(ids, [range])).toHaveProperty('size', 1_000);
    const one = await granulesRead(store, storedIdsQuery(db, ids, [range]));
    expect(one.of).toBeGreaterThanOrEqual(10);
    expect(one.read).toBeLessThanOrEqual(2);

    // A batch from two partitions far apart in event time: 500 ids near the start, 500 near the
    // end, all stored. Only the granules of the two ranges are read, not all those between them.
    const early = Array.from({ length: 500 }, (_, i) => `evt-${1_000 + i}`);
    const late = Array.from({ length: 500 }, (_, i) => `evt-${98_000 + i}`);
    const ranges = [
      { from: hour + 1_000 * 30, to: hour + 1_499 * 30 },
      { from: hour + 98_000 * 30, to: hour + 98_499 * 30 },
    ];
    expect(await store.storedEventIds([...early, ...late], ranges)).toHaveProperty('size', 1_000);
    const two = await granulesRead(store, storedIdsQuery(db, [...early, ...late], ranges));
    expect(two.read).toBeLessThanOrEqual(4);
    // One range over both would read all of them.
    const spanning = await granulesRead(
      store,
      storedIdsQuery(db, [...early, ...late], [{ from: ranges[0]!.from, to: ranges[1]!.to }]),
    );
    expect(spanning.read).toBeGreaterThanOrEqual(two.of - 1);
    // An id outside every range is not looked for.
    expect(await store.storedEventIds(['evt-50000'], ranges)).toHaveProperty('size', 0);
    await store.close();
  });
});

/** Granules the look-up reads from the ids_by_time projection, and how many the projection has. */
async function granulesRead(store: Store, sql: string): Promise<{ read: number; of: number }> {
  const plan = (await store.query<{ explain: string }>(`EXPLAIN indexes = 1 ${sql}`)).map((r) => r.explain);
  expect(plan.join('\n')).toContain('ReadFromMergeTree (ids_by_time)');
  const granules = plan.map((l) => /Granules: (\d+)\/(\d+)/.exec(l)).find((m) => m !== null);
  return { read: Number(granules![1]), of: Number(granules![2]) };
}
