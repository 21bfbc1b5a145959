import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.js';
import { createClickHouseStore, quote } from '../../src/store/clickhouseStore.js';
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

describe.skipIf(process.env.CLICKHOUSE_URL)('embedded inserts', () => {
  const spoolBase = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const ours = () => readdirSync(spoolBase).filter((n) => n.startsWith(`choir-insert-${process.pid}-`));

  it('store a retried insert once, leave no file behind, and clear what a killed process left', async () => {
    // A folder as a process killed mid-insert leaves it: its pid no longer runs.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale = join(spoolBase, `choir-insert-${dead}-x1`);
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, '7.tsv'), 'rows');

    const store = await openStore(testConfig(), testLogger());
    expect(existsSync(stale)).toBe(false);
    const rows = [
      eventRow({ id: 'e1', time: Date.UTC(2026, 0, 1) }),
      eventRow({ id: 'e2', time: Date.UTC(2026, 0, 1) }),
    ];
    await store.insertEvents(rows, 'batch-1');
    await store.insertEvents(rows, 'batch-1'); // a retry after a lost acknowledgement
    const [c] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${store.database}.token_events`);
    expect(Number(c!.n)).toBe(2);
    expect(ours()).toHaveLength(1);
    expect(readdirSync(join(spoolBase, ours()[0]!))).toEqual([]);
    await store.close();
    expect(ours()).toEqual([]);
  });
});
