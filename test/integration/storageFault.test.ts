import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChoirError } from '../../src/errors.js';
import { openStore, serve } from '../../src/index.js';
import type { Store } from '../../src/store/store.js';
import { verifyLog } from '../../src/store/verify.js';
import { brokers, fillTopic, offsets, uniqueName } from '../support/kafka.js';
import { testConfig, testLogger, waitFor } from '../support/store.js';

const TOTAL = 30_000;

/** The real chDB store behind a switch: while `down`, every insert fails; `lostAck` makes one insert land and then fail. */
function faultyStore(real: Store) {
  const state = { down: false, lostAck: 0, failures: 0 };
  const fail = () => {
    state.failures++;
    throw new ChoirError('STORAGE_UNAVAILABLE', 'injected: ClickHouse is down', { retriable: true });
  };
  const store: Store = {
    ...real,
    async insertEvents(rows, token) {
      if (state.down) fail();
      const seq = await real.insertEvents(rows, token);
      if (state.lostAck > 0 && rows.length > 0) {
        state.lostAck--;
        fail();
      }
      return seq;
    },
    async insertDeadLetters(rows, token) {
      if (state.down) fail();
      return real.insertDeadLetters(rows, token);
    },
  };
  return { store, state };
}

describe('storage failing for a while', () => {
  const topic = uniqueName('choir-fault');
  const groupId = uniqueName('choir-fault-group');
  const config = testConfig({
    kafka: { brokers: brokers(), topics: [topic], group_id: groupId },
    ingest: { batch_rows: 2_000, batch_ms: 50, max_backoff_ms: 200 },
  });
  const logger = testLogger();
  let real: Store;

  beforeAll(async () => {
    await fillTopic(topic, TOTAL);
    real = await openStore(config, logger);
  });
  afterAll(async () => {
    await real?.close();
  });

  /** Every offset below a partition's commit must be in the log: nothing was committed early. */
  async function assertNothingCommittedEarly(): Promise<void> {
    const { committed } = await offsets(topic, groupId);
    const stored = await real.query<{ p: number; n: string }>(
      `SELECT ingest_partition AS p, count() AS n FROM ${real.database}.token_events GROUP BY p`,
    );
    for (let p = 0; p < 6; p++) {
      const below = await real.query<{ n: string }>(
        `SELECT count() AS n FROM ${real.database}.token_events WHERE ingest_partition = ${p} AND ingest_offset < ${committed[p] ?? 0}`,
      );
      expect(
        Number(below[0]!.n),
        `partition ${p}: commit ${committed[p]}, rows ${JSON.stringify(stored)}`,
      ).toBe(committed[p] ?? 0);
    }
  }

  it('loses nothing, stores nothing twice and commits nothing early', async () => {
    const { store, state } = faultyStore(real);
    state.lostAck = 3;
    const running = await serve(config, logger, { store });
    try {
      await waitFor(
        'some rows stored',
        () => real.query<{ n: string }>(`SELECT count() AS n FROM ${real.database}.token_events`),
        (r) => Number(r[0]!.n) > 3_000,
      );
      state.down = true;
      const failuresBefore = state.failures;
      await new Promise((r) => setTimeout(r, 1_500));
      // While storage is down: inserts keep failing and no commit moves past what is stored.
      expect(state.failures).toBeGreaterThan(failuresBefore);
      await assertNothingCommittedEarly();
      const during = await offsets(topic, groupId);
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await offsets(topic, groupId)).committed).toEqual(during.committed);
      state.down = false;
      await waitFor(
        'all partitions committed',
        () => offsets(topic, groupId),
        (o) => o.committed.join() === o.end.join(),
      );
    } finally {
      await running.stop();
    }
    await assertNothingCommittedEarly();
    const [r] = await real.query<{ n: string; u: string }>(
      `SELECT count() AS n, uniqExact(id) AS u FROM ${real.database}.token_events`,
    );
    expect({ rows: Number(r!.n), ids: Number(r!.u) }).toEqual({ rows: TOTAL, ids: TOTAL });
    expect(state.lostAck).toBe(0); // the lost acknowledgements did happen, and were not stored twice
    // Retries and lost acknowledgements leave the hash chain whole.
    const chain = await verifyLog({ store: real, key: '', retentionDays: 0 });
    expect(chain.problems).toEqual([]);
    const eventRows = chain.chains.filter((c) => c.table === 'token_events').reduce((n, c) => n + c.rows, 0);
    expect(eventRows).toBe(TOTAL);
  });
});
