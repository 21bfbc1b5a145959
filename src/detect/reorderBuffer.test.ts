import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from './reorderBuffer.js';

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
  });

  it('never moves its watermark back after history was learned', () => {
    const buffer = new ReorderBuffer(10);
    buffer.advanceTo(100);
    expect(buffer.watermark).toBe(90);
    expect(ids(buffer.push([ev(50)]))).toEqual(['e50']);
    expect(buffer.late).toBe(1);
  });
});
