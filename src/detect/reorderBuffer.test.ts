import { describe, expect, it } from 'vitest';
import { byTimeThenId, ReorderBuffer, sourceKey } from './reorderBuffer.js';

const ev = (time: number, id = `e${time}`) => ({ time, id });
const ids = (events: Array<{ id: string }>) => events.map((e) => e.id);

describe('ReorderBuffer', () => {
  it('holds events until the watermark passes them, then releases them in time order', () => {
    const buffer = new ReorderBuffer(10);
    expect(buffer.push([ev(5), ev(1), ev(3)])).toEqual([]);
    expect(buffer.watermark).toBe(-5);
    expect(ids(buffer.push([ev(14), ev(2)]))).toEqual(['e1', 'e2', 'e3']);
    expect(buffer.size).toBe(2);
    expect(ids(buffer.drain())).toEqual(['e5', 'e14']);
    expect(buffer.size).toBe(0);
  });

  it('keeps an event at the watermark itself: it may still arrive in time', () => {
    const buffer = new ReorderBuffer(10);
    expect(ids(buffer.push([ev(0), ev(10)]))).toEqual([]);
    expect(ids(buffer.push([ev(11)]))).toEqual(['e0']);
  });

  it('breaks ties in time by id, whatever the arrival order', () => {
    const a = new ReorderBuffer(0);
    const b = new ReorderBuffer(0);
    a.push([ev(1, 'b'), ev(1, 'a')]);
    b.push([ev(1, 'a')]);
    b.push([ev(1, 'b')]);
    expect(ids(a.drain())).toEqual(['a', 'b']);
    expect(ids(b.drain())).toEqual(['a', 'b']);
  });

  it('gives the same sequence for any interleaving within the lateness', () => {
    const events = Array.from({ length: 200 }, (_, i) => ev(i * 3, `e${String(i).padStart(3, '0')}`));
    const sorted = ids(events);
    for (const chunk of [1, 7, 50]) {
      const buffer = new ReorderBuffer(30);
      const out: string[] = [];
      // Swap neighbours (at most 3 ms apart) and deliver in chunks, as partitions would.
      const shuffled = events.map(
        (_, i) => events[i % 2 === 0 ? Math.min(i + 1, events.length - 1) : i - 1]!,
      );
      for (let i = 0; i < shuffled.length; i += chunk)
        out.push(...ids(buffer.push(shuffled.slice(i, i + chunk))));
      out.push(...ids(buffer.drain()));
      expect(out).toEqual(sorted);
      expect(buffer.late).toBe(0);
    }
  });

  it('releases an event later than the lateness at once and counts it, never drops it', () => {
    const buffer = new ReorderBuffer(5);
    buffer.push([ev(0), ev(20)]);
    expect(ids(buffer.push([ev(3)]))).toEqual(['e3']);
    expect(buffer.late).toBe(1);
    expect(ids(buffer.drain())).toEqual(['e20']);
    expect(buffer.peak).toBe(2);
  });

  it('counts what the caller accepted and will push later as seen, without letting it arrive late', () => {
    const buffer = new ReorderBuffer(10);
    // Stored 0..20; the batcher already holds 22..40, not stored yet.
    const pending = { minTime: 22, maxTime: 40 };
    expect(ids(buffer.push([ev(0), ev(20)], [], pending))).toEqual(['e0', 'e20']);
    expect(buffer.watermark).toBe(22);
    // Without a newer accepted event, 20 waits for one at least 10 later.
    const blind = new ReorderBuffer(10);
    expect(ids(blind.push([ev(0), ev(20)]))).toEqual(['e0']);
    // Pending events at or after the watermark are in time when they come: none is late.
    expect(
      ids(buffer.push([ev(22), ev(40)], [], { minTime: Number.POSITIVE_INFINITY, maxTime: 40 })),
    ).toEqual(['e22']);
    expect(buffer.late).toBe(0);
    expect(buffer.watermark).toBe(30);
  });

  it('releases what it holds as newer events are accepted upstream, before those are pushed', () => {
    const buffer = new ReorderBuffer(10);
    expect(ids(buffer.push([ev(0), ev(20)]))).toEqual(['e0']);
    // Accepted, not stored: 25..31. The lateness runs from 31; 25 must stay in time.
    expect(ids(buffer.accepted({ minTime: 25, maxTime: 31 }))).toEqual(['e20']);
    expect(buffer.watermark).toBe(21);
    // Stored now, in time; 25 waits until events 10 later than it are accepted.
    expect(buffer.push([ev(25), ev(31)], [], { minTime: Number.POSITIVE_INFINITY, maxTime: 31 })).toEqual([]);
    expect(buffer.late).toBe(0);
    expect(ids(buffer.accepted({ minTime: 36, maxTime: 36 }))).toEqual(['e25']);
  });

  it('never moves its watermark back after history was learned', () => {
    const buffer = new ReorderBuffer(10);
    buffer.advanceTo(100);
    expect(buffer.watermark).toBe(90);
    expect(ids(buffer.push([ev(50)]))).toEqual(['e50']);
    expect(buffer.late).toBe(1);
  });
});

describe('ReorderBuffer with per-source watermarks', () => {
  type Ev = { time: number; id: string; ingest_source: string; ingest_partition: number };
  const sourceOf = (e: Ev) => sourceKey(e.ingest_source, e.ingest_partition);
  const at = (p: number, time: number): Ev => ({
    time,
    id: `p${p}-${String(time).padStart(6, '0')}`,
    ingest_source: 'kafka:events',
    ingest_partition: p,
  });
  const progress = (p: number, caughtUp: boolean) => [{ source: 'kafka:events', partition: p, caughtUp }];

  it('gives the engine the exact (time, id) order when six partitions arrive in skewed chunks', () => {
    // Each partition holds 600 events over the same hour; a consumer catching up reads 200 of one
    // partition, then 200 of the next: chunks 20 minutes of event time apart, lateness 1 s.
    const parts = Array.from({ length: 6 }, (_, p) =>
      Array.from({ length: 600 }, (_, i) => at(p, i * 6_000 + p)),
    );
    const sorted = parts
      .flat()
      .sort(byTimeThenId)
      .map((e) => e.id);
    let now = 0;
    const buffer = new ReorderBuffer<Ev>({ lateness: 1_000, sourceOf, now: () => now });
    const out: string[] = [];
    for (let round = 0; round < 3; round++)
      for (let p = 0; p < 6; p++) {
        const chunk = (parts[p] as Ev[]).slice(round * 200, round * 200 + 200);
        // Skewed: partition p is read first in round 0, last in round 2. The first round's
        // batches are stored within the first second or two, a flush or so apart.
        out.push(...ids(buffer.push(chunk, progress(p, round === 2))));
        now += 300;
      }
    out.push(...ids(buffer.drain()));
    expect(out).toEqual(sorted);
    expect(buffer.late).toBe(0);
  });

  it('releases nothing in its first seconds: partitions not heard of yet may be behind', () => {
    let now = 0;
    const buffer = new ReorderBuffer<Ev>({ lateness: 0, sourceOf, startupMs: 3_000, now: () => now });
    expect(buffer.push([at(0, 100), at(0, 200)], progress(0, false))).toEqual([]);
    now = 2_000;
    expect(buffer.push([at(1, 50), at(1, 150)], progress(1, false))).toEqual([]);
    now = 3_000;
    expect(ids(buffer.release())).toEqual(['p1-000050', 'p0-000100']);
    expect(buffer.late).toBe(0);
  });

  it('stops waiting at startup once every assigned partition has reported', () => {
    let now = 0;
    const buffer = new ReorderBuffer<Ev>({ lateness: 0, sourceOf, startupMs: 3_000, now: () => now });
    const of3 = (p: number) => [{ ...progress(p, false)[0]!, assigned: 3 }];
    expect(buffer.push([at(0, 100), at(0, 200)], of3(0))).toEqual([]);
    now = 100;
    expect(buffer.push([at(1, 50), at(1, 150)], of3(1))).toEqual([]);
    now = 200;
    // All three heard of, well before 3 s: released up to the slowest partition (at 150), in
    // order, the third partition's early event first.
    expect(ids(buffer.push([at(2, 20), at(2, 300)], of3(2)))).toEqual([
      'p2-000020',
      'p1-000050',
      'p0-000100',
    ]);
    expect(buffer.late).toBe(0);
  });

  it('is not held back by a partition that reached its end, nor by one silent for idleMs', () => {
    let now = 0;
    const buffer = new ReorderBuffer<Ev>({
      lateness: 0,
      sourceOf,
      idleMs: 5_000,
      startupMs: 0,
      now: () => now,
    });
    buffer.push([at(0, 100)], progress(0, false));
    buffer.push([at(1, 500)], progress(1, true));
    // Partition 0 is behind at 100: partition 1's event waits.
    expect(buffer.watermark).toBe(100);
    expect(buffer.push([at(2, 900)], progress(2, true))).toEqual([]);
    now = 3_000;
    expect(buffer.release()).toEqual([]);
    now = 6_000;
    // Silent and behind: reassigned or stalled; it no longer holds the others back.
    expect(ids(buffer.push([at(1, 1_000)], progress(1, true)))).toEqual([
      'p0-000100',
      'p1-000500',
      'p2-000900',
    ]);
    expect(buffer.watermark).toBe(1_000);
    expect(buffer.size).toBe(1);
  });

  it('releases what it holds after a second of quiet when every partition is at its end', () => {
    let now = 0;
    const buffer = new ReorderBuffer<Ev>({ lateness: 200, sourceOf, startupMs: 0, now: () => now });
    expect(ids(buffer.push([at(0, 1_000), at(1, 1_100)], progress(0, true)))).toEqual([]);
    now = 999;
    expect(buffer.release()).toEqual([]);
    now = 1_000;
    expect(ids(buffer.release())).toEqual(['p0-001000', 'p1-001100']);
    // Behind its end, a partition is waited for (idleMs).
    buffer.push([at(0, 2_000)], progress(0, false));
    now = 5_000;
    expect(buffer.release()).toEqual([]);
  });

  it('releases everything held once no input at all arrived for idleMs', () => {
    let now = 0;
    const buffer = new ReorderBuffer<Ev>({ lateness: 10_000, sourceOf, idleMs: 5_000, now: () => now });
    expect(buffer.push([at(0, 1), at(0, 2)])).toEqual([]);
    now = 5_000;
    expect(ids(buffer.release())).toEqual(['p0-000001', 'p0-000002']);
  });

  it('bounds what it holds: the oldest go first, later events behind them count as late', () => {
    const buffer = new ReorderBuffer<Ev>({ lateness: 0, sourceOf, maxHeld: 3, startupMs: 0 });
    buffer.push([at(0, 1)], progress(0, false));
    buffer.push([at(1, 10), at(1, 11)], progress(1, false));
    // Partition 0 is behind at 1: nothing may go, but four events exceed the cap.
    expect(ids(buffer.push([at(2, 20)], progress(2, false)))).toEqual(['p0-000001']);
    expect(buffer.size).toBe(3);
    expect(ids(buffer.push([at(0, 0)], progress(0, false)))).toEqual(['p0-000000']);
    expect(buffer.late).toBe(1);
  });
});
