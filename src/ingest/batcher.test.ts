import { describe, expect, it, vi } from 'vitest';
import { ChoirError } from '../errors.js';
import { createLogger } from '../logger.js';
import type { DeadLetter, EventRow, Store } from '../store/store.js';
import { Batcher, timeRanges } from './batcher.js';

/** An in-memory Store (unit tests only): keeps rows, can fail on demand. */
function memoryStore() {
  const events: EventRow[] = [];
  const dead: DeadLetter[] = [];
  const plan: { failInsert: number; failAfterWrite: number; permanent: boolean } = {
    failInsert: 0,
    failAfterWrite: 0,
    permanent: false,
  };
  const store: Store = {
    mode: 'embedded',
    database: 'mem',
    async insertEvents(rows) {
      if (plan.failInsert > 0) {
        plan.failInsert--;
        throw new ChoirError('STORAGE_UNAVAILABLE', 'down', { retriable: !plan.permanent });
      }
      events.push(...rows);
      // The insert landed but the acknowledgement was lost.
      if (plan.failAfterWrite > 0) {
        plan.failAfterWrite--;
        throw new ChoirError('STORAGE_UNAVAILABLE', 'timeout after write', { retriable: true });
      }
      return undefined;
    },
    async insertDeadLetters(rows) {
      dead.push(...rows);
      return undefined;
    },
    async storedEventIds(ids, ranges) {
      // As ClickHouse does: only events with a time in one of the ranges are looked at.
      const inRanges = (t: number) => ranges.some((r) => t >= r.from && t <= r.to);
      const have = new Set(events.filter((e) => inRanges(e.time)).map((e) => e.id));
      return new Set(ids.filter((id) => have.has(id)));
    },
    async storedDeadLetterIds(ids) {
      const have = new Set(dead.map((d) => d.id));
      return new Set(ids.filter((id) => have.has(id)));
    },
    query: async () => [],
    command: async () => {},
    close: async () => {},
  };
  return { store, events, dead, plan };
}

const row = (id: string, time = 1000): EventRow =>
  ({ id, time, ingest_source: 't', ingest_partition: 0, ingest_offset: 0, ingested_at: 0 }) as EventRow;
const batcher = (store: Store, batchRows = 100) =>
  new Batcher({
    store,
    logger: createLogger('silent'),
    batchRows,
    batchMs: 5,
    maxBackoffMs: 10,
    sleep: async () => {},
  });

describe('Batcher', () => {
  it('stores a row once when the next batch repeats it while the first is still being inserted', async () => {
    const m = memoryStore();
    const insert = m.store.insertEvents;
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let held = false;
    m.store.insertEvents = async (rows, token) => {
      if (!held) {
        held = true;
        await gate;
      }
      return insert(rows, token);
    };
    const b = batcher(m.store, 2);
    const first = b.write([row('a'), row('b')]);
    // Flushed at once: its look-up runs now, while 'b' is still on its way into the log.
    const second = b.write([row('b'), row('c')]);
    await new Promise((r) => setImmediate(r));
    release();
    expect(await first).toEqual({ stored: 2, duplicates: 0, deadLettered: 0 });
    expect(await second).toEqual({ stored: 1, duplicates: 1, deadLettered: 0 });
    expect(m.events.map((e) => e.id).sort()).toEqual(['a', 'b', 'c']);
  });

  it('flushes when the row limit is reached without waiting for the timer', async () => {
    const m = memoryStore();
    const b = new Batcher({
      store: m.store,
      logger: createLogger('silent'),
      batchRows: 2,
      batchMs: 60_000,
      maxBackoffMs: 10,
    });
    const receipt = await b.write([row('a'), row('b')]);
    expect(receipt).toEqual({ stored: 2, duplicates: 0, deadLettered: 0 });
    expect(m.events.map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('stores an id once when it arrives twice, in one batch or in two', async () => {
    const m = memoryStore();
    const b = batcher(m.store);
    const [r1, r2] = await Promise.all([b.write([row('a'), row('a')]), b.write([row('a'), row('b')])]);
    expect(r1).toEqual({ stored: 1, duplicates: 1, deadLettered: 0 });
    expect(r2).toEqual({ stored: 1, duplicates: 1, deadLettered: 0 });
    expect(await b.write([row('b')])).toEqual({ stored: 0, duplicates: 1, deadLettered: 0 });
    expect(m.events.map((e) => e.id).sort()).toEqual(['a', 'b']);
  });

  it('finds every repeat of a batch whose writers lie far apart in event time', async () => {
    const m = memoryStore();
    const b = batcher(m.store);
    const partitions = (at: number) => [
      [row(`a${at}`, 1_000 + at), row(`b${at}`, 1_010 + at)],
      [row(`c${at}`, 900_000 + at), row(`d${at}`, 900_500 + at)],
    ];
    for (const events of partitions(0)) b.write(events);
    await b.flush();
    // Redelivered, together with new events between and beyond them.
    const again = await Promise.all([...partitions(0), [row('new', 500_000)]].map((e) => b.write(e)));
    expect(again.map((r) => r.duplicates)).toEqual([2, 2, 0]);
    expect(m.events).toHaveLength(5);
  });

  it('retries a failing insert and resolves only once it is stored', async () => {
    const m = memoryStore();
    m.plan.failInsert = 3;
    const receipt = await batcher(m.store).write([row('a')]);
    expect(receipt.stored).toBe(1);
    expect(m.plan.failInsert).toBe(0);
    expect(m.events).toHaveLength(1);
  });

  it('does not write twice when an insert landed but its acknowledgement was lost', async () => {
    const m = memoryStore();
    m.plan.failAfterWrite = 1;
    await batcher(m.store).write([row('a'), row('b')]);
    expect(m.events.map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('rejects the writers when storage refuses the batch for good', async () => {
    const m = memoryStore();
    m.plan.failInsert = 1;
    m.plan.permanent = true;
    await expect(batcher(m.store).write([row('a')])).rejects.toThrow('down');
  });

  it('stores dead letters beside the events of the same batch', async () => {
    const m = memoryStore();
    const dl = {
      id: 'd1',
      source: 'http',
      partition: 0,
      offset: 3,
      received_at: 0,
      reason: 'bad',
      payload: '{',
    };
    const receipt = await batcher(m.store).write([row('a')], [dl, dl]);
    expect(receipt).toEqual({ stored: 1, duplicates: 0, deadLettered: 1 });
    expect(m.dead).toHaveLength(1);
  });
});

describe('Batcher onStored', () => {
  it('hands over each event the log did not hold before, once, after its insert, even when its acknowledgement was lost', async () => {
    const { store, plan } = memoryStore();
    const handed: string[][] = [];
    const b = new Batcher({
      store,
      logger: createLogger('silent'),
      batchRows: 100,
      batchMs: 5,
      maxBackoffMs: 10,
      sleep: async () => {},
      onStored: (events) => handed.push(events.map((e) => e.id)),
    });
    await b.write([row('a'), row('b')]);
    await b.write([row('b'), row('c')]); // b is a repeat: not handed over again
    plan.failAfterWrite = 1; // d lands, the answer is lost, the retry finds it stored
    await b.write([row('d')]);
    await b.write([row('a')]); // nothing new: no call
    expect(handed).toEqual([['a', 'b'], ['c'], ['d']]);
  });

  it('tells detection the times of what it holds beyond the batch it hands over', async () => {
    const { store } = memoryStore();
    const insert = store.insertEvents;
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    store.insertEvents = async (rows, token) => {
      await gate;
      return insert(rows, token);
    };
    const told: Array<{ ids: string[]; pending?: { minTime: number; maxTime: number } }> = [];
    const b = new Batcher({
      store,
      logger: createLogger('silent'),
      batchRows: 2,
      batchMs: 1_000,
      maxBackoffMs: 10,
      sleep: async () => {},
      onStored: (events, batch) => told.push({ ids: events.map((e) => e.id), pending: batch.pending }),
    });
    const first = b.write([row('a', 100), row('b', 300)]); // a full batch: flushed, held at the gate
    const second = b.write([row('c', 250)]); // buffered behind it
    release();
    await first;
    expect(told).toEqual([{ ids: ['a', 'b'], pending: { minTime: 250, maxTime: 300 } }]);
    await b.close();
    await second;
    expect(told[1]).toEqual({ ids: ['c'], pending: { minTime: Number.POSITIVE_INFINITY, maxTime: 300 } });
  });

  it('starts the insert of a queued batch before handing over the one stored ahead of it, in order', async () => {
    const { store } = memoryStore();
    const insert = store.insertEvents;
    const log: string[] = [];
    const gates: Array<() => void> = [];
    store.insertEvents = async (rows, token) => {
      log.push(`insert ${rows.map((r) => r.id).join('')}`);
      await new Promise<void>((r) => gates.push(r));
      return insert(rows, token);
    };
    const b = new Batcher({
      store,
      logger: createLogger('silent'),
      batchRows: 1,
      batchMs: 1_000,
      maxBackoffMs: 10,
      sleep: async () => {},
      onStored: (events) => log.push(`stored ${events.map((e) => e.id).join('')}`),
    });
    const writes = [b.write([row('a')]), b.write([row('b')]), b.write([row('c')])];
    for (let i = 0; i < 3; i++) {
      await vi.waitFor(() => expect(gates.length).toBe(i + 1));
      gates[i]!();
    }
    await Promise.all(writes);
    await b.close();
    expect(log).toEqual(['insert a', 'insert b', 'stored a', 'insert c', 'stored b', 'stored c']);
  });

  it('tells detection what it accepted, before storing it', async () => {
    const { store } = memoryStore();
    const accepted: Array<{ minTime: number; maxTime: number }> = [];
    const b = new Batcher({
      store,
      logger: createLogger('silent'),
      batchRows: 100,
      batchMs: 1_000,
      maxBackoffMs: 10,
      sleep: async () => {},
      onAccepted: (pending) => accepted.push(pending),
    });
    const first = b.write([row('a', 500), row('b', 700)]);
    const second = b.write([row('c', 400)]);
    expect(accepted).toEqual([
      { minTime: 500, maxTime: 700 },
      { minTime: 400, maxTime: 700 },
    ]);
    await b.close();
    await Promise.all([first, second]);
  });
});

describe('timeRanges()', () => {
  const span = (from: number, to = from) => ({ from, to });

  it("joins the writers' spans that overlap, in time order", () => {
    const spans = [span(1, 5), span(20, 30), span(2, 8), span(25)];
    expect(timeRanges(spans)).toEqual([
      { from: 1, to: 8 },
      { from: 20, to: 30 },
    ]);
    // The writers' own spans are left as they were.
    expect(spans[0]).toEqual({ from: 1, to: 5 });
  });

  it('past 16 ranges closes the smallest gaps, still covering every event', () => {
    // 40 single events; gaps of 1,000 except every tenth, 100,000 wide.
    const times: number[] = [];
    for (let i = 0, t = 0; i < 40; i++, t += i % 10 === 0 ? 100_000 : 1_000) times.push(t);
    const ranges = timeRanges(times.map((t) => span(t)));
    expect(ranges).toHaveLength(16);
    for (const t of times) expect(ranges.filter((r) => t >= r.from && t <= r.to)).toHaveLength(1);
    // The three wide gaps are kept apart.
    for (const wide of [9, 19, 29]) {
      expect(ranges.some((r) => r.from <= times[wide]! && r.to >= times[wide + 1]!)).toBe(false);
    }
  });
});
