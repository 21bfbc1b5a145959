import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { createBatcher, createDecoders, openStore } from '../../src/index.js';
import { toRows } from '../../src/ingest/toRows.js';
import { linkHash } from '../../src/store/chain.js';
import { DEAD_LETTERS_TABLE, EVENTS_TABLE } from '../../src/store/chainedTables.js';
import type { Problem } from '../../src/store/checkLinks.js';
import type { DeadLetter, EventRow, Store } from '../../src/store/store.js';
import { verifyLog } from '../../src/store/verify.js';
import { eventRow, makeLine } from '../support/generate.js';
import { testConfig, testLogger } from '../support/store.js';

const logger = testLogger();

/**
 * `lines` NDJSON lines (every 50th malformed) through Choir's real path — decoder, batcher, chained
 * store — written in small pieces, as a source would, so the batcher flushes every `batch_rows`.
 */
async function ingest(store: Store, config: Config, from: number, lines: number): Promise<void> {
  const decode = createDecoders(config)('choir')!;
  const batcher = createBatcher(config, store, logger);
  const writes: Promise<unknown>[] = [];
  for (let start = from; start < from + lines; start += 250) {
    const records = [];
    for (let i = start; i < Math.min(from + lines, start + 250); i++) {
      records.push({
        text: makeLine(i, 50).line,
        origin: { source: 'file:test', partition: 0, offset: i + 1 },
      });
    }
    const rows = toRows(records, decode, Date.now());
    writes.push(batcher.write(rows.events, rows.deadLetters));
  }
  await Promise.all(writes);
  await batcher.close();
}

const verify = (store: Store, key = '') => verifyLog({ store, key, retentionDays: 0 });
const summary = (problems: Problem[]) =>
  problems.map((p) => ({ table: p.table, kind: p.kind, batch: p.batch_seq, rows: p.rows }));

/** Ids of the stored events of one batch, and the batch a given event is in. */
async function batchOf(store: Store, id: string): Promise<number> {
  const [r] = await store.query<{ seq: number }>(
    `SELECT batch_seq AS seq FROM ${store.database}.token_events WHERE id = {id:String}`,
    { id },
  );
  return Number(r!.seq);
}

describe('tamper evidence: choir verify', () => {
  // Small batches: the log holds many links, and each test tampers with a different one.
  const config = testConfig({ ingest: { batch_rows: 500 }, storage: { writer_id: 'writer-a' } });
  let store: Store;

  beforeAll(async () => {
    store = await openStore(config, logger);
    await ingest(store, config, 0, 5_000);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('verifies an intact log clean: every batch of events and dead letters is a link', async () => {
    const report = await verify(store);
    expect(report.problems).toEqual([]);
    expect(report.intact).toBe(true);
    expect(report.rows).toBe(5_000);
    const events = report.chains.find((c) => c.table === 'token_events')!;
    const dead = report.chains.find((c) => c.table === 'dead_letters')!;
    expect(events).toMatchObject({ chain_id: 'writer-a', first_seq: 1, rows: 4_900 });
    expect(events.links).toBeGreaterThanOrEqual(9);
    expect(dead).toMatchObject({ chain_id: 'writer-a', first_seq: 1, rows: 100 });
  });

  it('hashes stored rows in ClickHouse exactly as the writer hashed them in Node', async () => {
    const tricky = testConfig({ storage: { writer_id: 'tricky' } });
    const s = await openStore(tricky, logger);
    try {
      const base = { ...oneEvent(), ingest_source: 'file:x', ingest_partition: 0, ingest_offset: 1 };
      const events: EventRow[] = [
        { ...base, id: 'plain' },
        {
          ...base,
          id: 'odd-text',
          principal: 'tab\there\nnew\\line \'quote" é 😀 \ud800 \u0000 \u00ff',
          scopes: ["it's", 'a\\b', '\b\f\v\u0001\u001f\u007f', '[x]'],
          user_agent: "{'k':'v'} \\N \r\b\f",
          attributes: { '10': 'ten', z: 'last', '2': 'two', 'k\tey': 'v\\al', '': '', "q'": "'" },
          raw: '{"x":"\\u0000\\n"}\n\u0000',
        },
        // Times the TSV insert reads back exactly: 13-digit epoch milliseconds (2001-09-09 to 2286-11-20).
        {
          ...base,
          id: 'edges',
          time: 1_000_000_000_000,
          expires_at: 9_999_999_999_999,
          status: 999,
          ingest_offset: -1,
        },
        { ...base, id: 'cidrs', allowed_cidrs: ['10.0.0.0/8', ''], expires_at: 1_800_000_000_001 },
      ];
      const dead: DeadLetter[] = [
        {
          id: 'd1',
          received_at: 1_767_225_600_000,
          source: 'http',
          partition: -1,
          offset: -1,
          reason: 'bad\tjson',
          payload: '\u0000{é',
        },
      ];
      await s.insertDeadLetters(dead, 'tricky-dead');
      await s.insertEvents(events, 'tricky-events');
      const stored = await s.query<{ id: string; d: string }>(
        `SELECT id, hex(${EVENTS_TABLE.form.sqlDigest}) AS d FROM ${s.database}.token_events ORDER BY id`,
      );
      const expected = events.map((e) => ({
        id: e.id,
        d: EVENTS_TABLE.form.digest(e).toUpperCase(),
      }));
      expect(stored).toEqual(expected.sort((a, b) => a.id.localeCompare(b.id)));
      const [d] = await s.query<{ d: string }>(
        `SELECT hex(${DEAD_LETTERS_TABLE.form.sqlDigest}) AS d FROM ${s.database}.dead_letters`,
      );
      expect(d!.d).toBe(DEAD_LETTERS_TABLE.form.digest(dead[0]!).toUpperCase());
      expect((await verify(s)).intact).toBe(true);
    } finally {
      await s.close();
    }
  });

  describe("after tampering behind Choir's back", () => {
    // One fresh log per case, so each report holds exactly the tampering done to it.
    let log: Store;
    let logConfig: Config;
    beforeAll(async () => {
      logConfig = testConfig({ ingest: { batch_rows: 500 }, storage: { writer_id: 'writer-b' } });
      log = await openStore(logConfig, logger);
    });
    afterAll(async () => {
      await log?.close();
    });
    const fresh = async () => {
      await log.command(`TRUNCATE TABLE ${log.database}.token_events`);
      await log.command(`TRUNCATE TABLE ${log.database}.dead_letters`);
      // A new writer, which reads its (now empty) chain from storage and starts again at 1.
      await log.close();
      log = await openStore(logConfig, logger);
      await ingest(log, logConfig, 0, 3_000);
      expect((await verify(log)).intact).toBe(true);
      return `${log.database}.token_events`;
    };

    it('names the batch and the row when a row is changed', async () => {
      const table = await fresh();
      const seq = await batchOf(log, 'evt-1234');
      await log.command(
        `ALTER TABLE ${table} UPDATE principal = 'mallory' WHERE id = 'evt-1234' SETTINGS mutations_sync = 2`,
      );
      const report = await verify(log);
      expect(report.intact).toBe(false);
      expect(summary(report.problems)).toEqual([
        { table: 'token_events', kind: 'changed', batch: seq, rows: 1 },
      ]);
      expect(report.problems[0]!.ids).toEqual(['evt-1234']);
      expect(report.first_broken).toMatchObject({ chain_id: 'writer-b', batch_seq: seq, kind: 'changed' });
    });

    it('counts the rows missing from the batch a row was deleted from', async () => {
      const table = await fresh();
      const seq = await batchOf(log, 'evt-42');
      await log.command(`ALTER TABLE ${table} DELETE WHERE id = 'evt-42' SETTINGS mutations_sync = 2`);
      const report = await verify(log);
      expect(summary(report.problems)).toEqual([
        { table: 'token_events', kind: 'missing', batch: seq, rows: 1 },
      ]);
    });

    it("notices when the row that carries a batch's hashes is deleted", async () => {
      const table = await fresh();
      await log.command(
        `ALTER TABLE ${table} DELETE WHERE batch_seq = 2 AND batch_hash != '' SETTINGS mutations_sync = 2`,
      );
      const report = await verify(log);
      expect(summary(report.problems)).toEqual([
        { table: 'token_events', kind: 'missing', batch: 2, rows: 1 },
      ]);
      expect(report.problems[0]!.detail).toContain('the row that carried the link');
    });

    it('reports the batches of which every row was deleted', async () => {
      const table = await fresh();
      await log.command(`ALTER TABLE ${table} DELETE WHERE batch_seq IN (2, 3) SETTINGS mutations_sync = 2`);
      const report = await verify(log);
      expect(summary(report.problems)).toEqual([
        { table: 'token_events', kind: 'missing_links', batch: 2, rows: null },
      ]);
      expect(report.problems[0]!.detail).toContain('batches 2–3 are missing');
    });

    it('names a row inserted outside any chain', async () => {
      const table = await fresh();
      await log.command(
        `INSERT INTO ${table} (id, type, time, token_id) VALUES ('forged-1', 'token.used', now64(3), 'tok-1')`,
      );
      const report = await verify(log);
      expect(summary(report.problems)).toEqual([
        { table: 'token_events', kind: 'unchained', batch: null, rows: 1 },
      ]);
      expect(report.problems[0]!.ids).toEqual(['forged-1']);
    });

    it("names a row inserted into a batch with that batch's link fields copied", async () => {
      const table = await fresh();
      // A copy of a stored row, link fields and all, under a new id (chDB runs no INSERT … SELECT
      // through the client, so the row goes back as JSON).
      const [original] = await log.query<Record<string, unknown>>(
        `SELECT * FROM ${table} WHERE id = 'evt-2000'`,
      );
      const forged = JSON.stringify({ ...original, id: 'forged-2', token_id: 'tok-evil' });
      await log.command(`INSERT INTO ${table} FORMAT JSONEachRow ${forged}`);
      const seq = await batchOf(log, 'evt-2000');
      const report = await verify(log);
      expect(summary(report.problems)).toEqual([
        { table: 'token_events', kind: 'added', batch: seq, rows: 1 },
      ]);
      expect(report.problems[0]!.ids).toEqual(['forged-2']);
    });

    it('reports a link rewritten with a recomputed hash at the next link', async () => {
      const table = await fresh();
      // A careful forger changes a row and rewrites its batch's hash to match (no key to sign with)…
      const seq = await batchOf(log, 'evt-700');
      await log.command(
        `ALTER TABLE ${table} UPDATE source_ip = '203.0.113.9' WHERE id = 'evt-700' SETTINGS mutations_sync = 2`,
      );
      const [link] = await log.query<{ rows: number; t: number; prev: string }>(
        `SELECT any(batch_rows) AS rows, any(toUnixTimestamp64Milli(batch_time)) AS t, anyIf(prev_hash, prev_hash != '') AS prev
         FROM ${table} WHERE batch_seq = ${seq}`,
      );
      const [content] = await log.query<{ c: string }>(
        `SELECT lower(hex(SHA256(arrayStringConcat(arrayMap(x -> hex(x), arraySort(groupArray(${EVENTS_TABLE.form.sqlDigest}))))))) AS c
         FROM ${table} WHERE batch_seq = ${seq}`,
      );
      const forged = linkHash({
        table: 'token_events',
        chain_id: 'writer-b',
        batch_seq: seq,
        batch_rows: Number(link!.rows),
        batch_time: Number(link!.t),
        prev_hash: link!.prev,
        content_hash: content!.c,
      });
      await log.command(
        `ALTER TABLE ${table} UPDATE batch_hash = if(batch_hash = '', '', '${forged}'),
           row_hash = reinterpretAsUInt32(substring(${EVENTS_TABLE.form.sqlDigest}, 1, 4))
         WHERE batch_seq = ${seq} SETTINGS mutations_sync = 2`,
      );
      // …which holds for that batch, but the next link still names the original.
      const report = await verify(log);
      expect(summary(report.problems)).toEqual([
        { table: 'token_events', kind: 'broken_link', batch: seq + 1, rows: null },
      ]);
    });

    it('names a changed dead letter in the dead-letter chain', async () => {
      await fresh();
      await log.command(
        `ALTER TABLE ${log.database}.dead_letters UPDATE reason = 'fine' WHERE offset = 50 SETTINGS mutations_sync = 2`,
      );
      const report = await verify(log);
      expect(summary(report.problems)).toEqual([
        { table: 'dead_letters', kind: 'changed', batch: expect.any(Number), rows: 1 },
      ]);
    });
  });

  it("continues a writer's chain across a restart", async () => {
    const c = testConfig({ ingest: { batch_rows: 1_000 }, storage: { writer_id: 'writer-c' } });
    let s = await openStore(c, logger);
    await ingest(s, c, 0, 2_000);
    const before = (await verify(s)).chains.find((x) => x.table === 'token_events')!;
    await s.close();
    s = await openStore(c, logger);
    try {
      await ingest(s, c, 2_000, 2_000);
      const report = await verify(s);
      expect(report.problems).toEqual([]);
      const after = report.chains.find((x) => x.table === 'token_events')!;
      expect(after.first_seq).toBe(1);
      expect(after.last_seq).toBeGreaterThan(before.last_seq);
      expect(after.links).toBe(after.last_seq);
      // The first link written after the restart names the last one written before it.
      const [first] = await s.query<{ prev: string }>(
        `SELECT anyIf(prev_hash, prev_hash != '') AS prev FROM ${s.database}.token_events WHERE batch_seq = ${before.last_seq + 1}`,
      );
      expect(first!.prev).toBe(before.head_hash);
    } finally {
      await s.close();
    }
  });

  it('signs links with security.chain_key and checks the signatures', async () => {
    const key = 'a-chain-key-of-at-least-16';
    const c = testConfig({ storage: { writer_id: 'writer-d' }, security: { chain_key: key } });
    const s = await openStore(c, logger);
    try {
      await ingest(s, c, 0, 1_000);
      expect((await verify(s, key)).intact).toBe(true);
      const wrong = await verify(s, 'some-other-key-of-16+');
      expect(new Set(wrong.problems.map((p) => p.kind))).toEqual(new Set(['bad_signature']));
    } finally {
      await s.close();
    }
  });

  it('verifies only the links written in a time range, with continuity into it', async () => {
    const all = await verify(store);
    const links = await store.query<{ seq: number; t: number }>(
      `SELECT batch_seq AS seq, toUnixTimestamp64Milli(any(batch_time)) AS t FROM ${store.database}.token_events
       GROUP BY batch_seq ORDER BY batch_seq`,
    );
    const mid = links[Math.floor(links.length / 2)]!;
    const report = await verifyLog({ store, key: '', retentionDays: 0, from: Number(mid.t) });
    expect(report.intact).toBe(true);
    expect(report.rows).toBeLessThan(all.rows);
    expect(report.chains.find((x) => x.table === 'token_events')!.first_seq).toBeLessThanOrEqual(
      Number(mid.seq),
    );
  });
});

function oneEvent(): EventRow {
  return eventRow({
    id: 'x',
    type: 'token.issued',
    time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    token_id: 'tok',
    token_kind: 'service_account',
    principal: 'svc',
    scopes: ['projects:read', 'builds:*'],
    status: 0,
    tenant: 'acme',
    source: 'test',
    ingested_at: Date.UTC(2026, 0, 2, 3, 4, 6),
  });
}
