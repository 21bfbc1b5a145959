import { describe, expect, it } from 'vitest';
import { NumberColumn, PairLists } from './pairLists.js';

describe('PairLists', () => {
  it('keeps one pair inline and longer lists as arrays, in order', () => {
    const lists = new PairLists();
    expect(lists.get(5)).toBeUndefined();
    lists.put(5, [7, 100]);
    expect(lists.get(5)).toEqual([7, 100]);
    const lent = lists.get(5) as number[];
    lists.put(5, lent.concat(8, 200));
    expect(lists.get(5)).toEqual([7, 100, 8, 200]);
    lists.put(5, [8, 300]);
    expect(lists.get(5)).toEqual([8, 300]);
    expect(lists.get(4)).toBeUndefined();
  });

  it('stores a lent inline pair changed in place, and forgets cleared tokens', () => {
    const lists = new PairLists();
    lists.put(3000, [1, 2]);
    const lent = lists.get(3000) as number[];
    lent[1] = 9;
    lists.put(3000, lent);
    expect(lists.get(3000)).toEqual([1, 9]);
    lists.put(1, [1, 2, 3, 4]);
    lists.clear(1);
    lists.clear(3000);
    expect([lists.get(1), lists.get(3000), lists.get(-1)]).toEqual([undefined, undefined, undefined]);
  });
});

describe('NumberColumn', () => {
  it('reads NaN where nothing was set, and grows on write', () => {
    const column = new NumberColumn();
    expect(column.get(0)).toBeNaN();
    column.set(5000, 1.5e12);
    expect([column.get(5000), column.get(4999), column.get(-1)]).toEqual([1.5e12, Number.NaN, Number.NaN]);
    column.clearAll();
    expect(column.get(5000)).toBeNaN();
  });
});
