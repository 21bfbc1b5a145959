import { describe, expect, it } from 'vitest';
import { TokenRecord } from './tokenRecord.js';
import { TokenTable } from './tokenTable.js';

describe('TokenTable', () => {
  it('gives a new token the number of an evicted one with no times or flags of it', () => {
    const evicted: number[] = [];
    const table = new TokenTable({ maxTokens: 100, onEvict: (r) => evicted.push(r.n) });
    for (let i = 0; i < 100; i++) {
      const token = table.create(`t${i}`);
      token.revoked_at = 1_000 + i;
      token.known = true;
      token.ref = false;
    }
    table.create('new'); // number 100; evicts the oldest
    const fresh = table.create('newer');
    expect(evicted).toContain(fresh.n);
    expect([fresh.revoked_at, fresh.first_used_at, fresh.known, fresh.preexisting]).toEqual([
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      false,
      false,
    ]);
    expect(table.get('t99')?.revoked_at).toBe(1_099);
  });

  it('keeps the times of records outside a table apart', () => {
    const a = new TokenRecord('a');
    const b = new TokenRecord('b');
    a.expires_at = 5;
    a.preexisting = true;
    expect([a.expires_at, b.expires_at, a.preexisting, a.known, b.preexisting]).toEqual([
      5,
      Number.POSITIVE_INFINITY,
      true,
      false,
      false,
    ]);
  });
});
