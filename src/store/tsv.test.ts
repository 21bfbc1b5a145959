import { describe, expect, it } from 'vitest';
import { CHAIN_COLUMNS, type ChainStamp } from './chain.js';
import { insertColumns, insertPayload, tsvArray, tsvMap, tsvString } from './tsv.js';

const lines = ['a\tb', 'é😀\t\\N', 'c'].map((l) => Buffer.from(l));

describe('insertPayload()', () => {
  it('writes one line per row', () => {
    expect(insertPayload(lines).toString()).toBe('a\tb\né😀\t\\N\nc\n');
  });

  it('puts the chain columns first: the link hashes on the first row only, every row its row_hash', () => {
    const stamp = {
      link: {
        chain_id: 'hôte-1',
        batch_seq: 7,
        batch_rows: 3,
        batch_time: 1000,
        prev_hash: 'p',
        batch_hash: 'h',
        signature: 's',
      },
      rowHashes: Uint32Array.from([11, 22, 33]),
    } as unknown as ChainStamp;
    expect(insertColumns(['x', 'y'], stamp)).toEqual([...CHAIN_COLUMNS, 'x', 'y']);
    expect(insertPayload(lines, stamp).toString()).toBe(
      'hôte-1\t7\t3\t1000\tp\th\ts\t11\ta\tb\n' +
        'hôte-1\t7\t3\t1000\t\t\t\t22\té😀\t\\N\n' +
        'hôte-1\t7\t3\t1000\t\t\t\t33\tc\n',
    );
  });
});

describe('field escapes', () => {
  it('escape what ClickHouse escapes when it writes TabSeparated', () => {
    expect(tsvString('\\\t\n\r\0\'\b\f\v"')).toBe('\\\\\\t\\n\\r\\0\\\'\\b\\f\v"');
    expect(tsvArray([])).toBe('[]');
    expect(tsvArray(["a'", 'b'])).toBe("['a\\'','b']");
    expect(tsvMap({})).toBe('{}');
    expect(tsvMap({ k: 'v', "'": '\t' })).toBe("{'k':'v','\\'':'\\t'}");
  });
});
