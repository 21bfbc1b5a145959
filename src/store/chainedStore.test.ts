import { describe, expect, it } from 'vitest';
import { eventRow } from '../../test/support/generate.js';
import { ChoirError } from '../errors.js';
import { createLogger } from '../logger.js';
import { type ChainStamp, GENESIS } from './chain.js';
import { chainedStore } from './chainedStore.js';
import type { EventRow, Store } from './store.js';

/** A Store keeping each insert with its stamp; answers the head look-up from what it kept. */
function recordingStore() {
  const inserts: { rows: EventRow[]; token: string; stamp: ChainStamp }[] = [];
  const plan = { fail: 0, failAfterWrite: 0 };
  const store = {
    mode: 'embedded',
    database: 'mem',
    async insertEvents(rows: EventRow[], token: string, stamp?: ChainStamp) {
      if (plan.fail > 0) {
        plan.fail--;
        throw new ChoirError('STORAGE_UNAVAILABLE', 'down', { retriable: true });
      }
      inserts.push({ rows, token, stamp: stamp! });
      if (plan.failAfterWrite > 0) {
        plan.failAfterWrite--;
        throw new ChoirError('STORAGE_UNAVAILABLE', 'timeout after write', { retriable: true });
      }
    },
    async query<T>(sql: string): Promise<T[]> {
      if (!sql.includes('ORDER BY batch_seq DESC LIMIT 1')) return [];
      const last = inserts.at(-1)?.stamp.link;
      return (last ? [{ seq: last.batch_seq, hash: last.batch_hash }] : []) as T[];
    },
  } as unknown as Store;
  return { store, inserts, plan };
}

const JAN = Date.UTC(2026, 0, 15);
const FEB = Date.UTC(2026, 1, 15);
const row = (id: string, time = JAN): EventRow => eventRow({ id, time });
const open = (inner: Store, key = '') =>
  chainedStore(inner, { chainId: 'w1', key, logger: createLogger('silent') });

describe('chainedStore()', () => {
  it('makes every insert one link, each naming the one before', async () => {
    const m = recordingStore();
    const store = open(m.store);
    await store.insertEvents([row('a'), row('b')], 't1');
    await store.insertEvents([row('c')], 't2');
    const [first, second] = m.inserts.map((i) => i.stamp.link);
    expect(first).toMatchObject({ chain_id: 'w1', batch_seq: 1, batch_rows: 2, prev_hash: GENESIS });
    expect(first!.batch_time).toBe(JAN + 5);
    expect(second).toMatchObject({ batch_seq: 2, batch_rows: 1, prev_hash: first!.batch_hash });
    expect(m.inserts.map((i) => i.token)).toEqual(['t1', 't2']);
  });

  it('continues the chain stored by an earlier run of the same writer', async () => {
    const m = recordingStore();
    await open(m.store).insertEvents([row('a')], 't1');
    await open(m.store).insertEvents([row('b')], 't2');
    expect(m.inserts[1]!.stamp.link).toMatchObject({
      batch_seq: 2,
      prev_hash: m.inserts[0]!.stamp.link.batch_hash,
    });
  });

  it('splits a batch that spans two months into one link per partition', async () => {
    const m = recordingStore();
    await open(m.store).insertEvents([row('a'), row('b', FEB), row('c')], 'tok');
    expect(m.inserts.map((i) => [i.rows.map((r) => r.id), i.token, i.stamp.link.batch_seq])).toEqual([
      [['a', 'c'], 'tok:0', 1],
      [['b'], 'tok:1', 2],
    ]);
  });

  it('asks storage for the head again after a failed insert', async () => {
    const m = recordingStore();
    const store = open(m.store);
    await store.insertEvents([row('a')], 't1');
    // The insert lands but its acknowledgement is lost: the head in storage is now link 2.
    m.plan.failAfterWrite = 1;
    await expect(store.insertEvents([row('b')], 't2')).rejects.toThrow('timeout');
    await store.insertEvents([row('c')], 't3');
    expect(m.inserts.map((i) => i.stamp.link.batch_seq)).toEqual([1, 2, 3]);
    expect(m.inserts[2]!.stamp.link.prev_hash).toBe(m.inserts[1]!.stamp.link.batch_hash);
  });

  it('makes the same link again when a failed insert is retried with the same rows', async () => {
    const m = recordingStore();
    const store = open(m.store);
    m.plan.fail = 1;
    await expect(store.insertEvents([row('a')], 't1')).rejects.toThrow('down');
    await store.insertEvents([row('a')], 't1');
    expect(m.inserts.map((i) => i.stamp.link.batch_seq)).toEqual([1]);
  });

  it('signs links when a key is configured and inserts nothing for no rows', async () => {
    const m = recordingStore();
    const store = open(m.store, 'a-chain-key-of-16+');
    await store.insertEvents([], 'empty');
    await store.insertEvents([row('a')], 't1');
    expect(m.inserts).toHaveLength(1);
    expect(m.inserts[0]!.stamp.link.signature).toMatch(/^[0-9a-f]{64}$/);
  });
});
