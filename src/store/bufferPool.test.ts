import { describe, expect, it } from 'vitest';
import { BufferPool } from './bufferPool.js';

describe('BufferPool', () => {
  it('hands back a buffer given back, when it is large enough, and holds no more than it keeps', () => {
    const pool = new BufferPool(1);
    const a = pool.take(1_000);
    expect(a.length).toBeGreaterThanOrEqual(1_000);
    pool.give(a);
    expect(pool.take(900)).toBe(a);
    pool.give(a);
    const bigger = pool.take(a.length + 1);
    expect(bigger).not.toBe(a);
    pool.give(bigger); // one idle buffer is kept already: this one is left to the collector
    expect(pool.take(10)).toBe(a);
    expect(pool.take(10)).not.toBe(bigger);
  });
});
