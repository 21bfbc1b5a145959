import { describe, expect, it } from 'vitest';
import { CHAIN_COLUMNS, type ChainStamp } from './chain.js';
import {
  insertColumns,
  insertPayload,
  tsvString,
  writeTsvArray,
  writeTsvInt,
  writeTsvMap,
  writeTsvString,
} from './tsv.js';

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

/** What a writer puts into a buffer, as text. */
function written<T>(write: (buf: Buffer, at: number, v: T) => number, v: T): string {
  const buf = Buffer.alloc(4096, 0xff);
  const end = write(buf, 3, v);
  return buf.subarray(3, end).toString('utf8');
}

describe('field escapes', () => {
  it('escape what ClickHouse escapes when it writes TabSeparated', () => {
    expect(tsvString('\\\t\n\r\0\'\b\f\v"')).toBe('\\\\\\t\\n\\r\\0\\\'\\b\\f\v"');
    expect(written(writeTsvArray, [])).toBe('[]');
    expect(written(writeTsvArray, ["a'", 'b'])).toBe("['a\\'','b']");
    expect(written(writeTsvMap, {})).toBe('{}');
    expect(written(writeTsvMap, { k: 'v', "'": '\t' })).toBe("{'k':'v','\\'':'\\t'}");
  });
});

describe('field writers', () => {
  it('write a string as the UTF-8 bytes of tsvString, short or long, ASCII or not', () => {
    const pieces = [
      'a',
      'Z',
      '0',
      ' ',
      '\t',
      '\n',
      '\\',
      "'",
      '\0',
      '\b',
      '\f',
      '\r',
      '\v',
      '\u0001',
      'é',
      '😀',
      '\ud800',
      '\udfff',
      '€',
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      let s = '';
      const len = next() % 60;
      for (let i = 0; i < len; i++)
        s += next() % 4 ? 'abcxyz-_.:/'[next() % 11] : pieces[next() % pieces.length];
      expect(written(writeTsvString, s)).toBe(Buffer.from(tsvString(s)).toString('utf8'));
    }
  });

  it('write integers as String does, and anything else through String', () => {
    for (const n of [
      0,
      7,
      9,
      10,
      99,
      100,
      -1,
      -10,
      2 ** 31 - 1,
      2 ** 31,
      999_999_999,
      1_000_000_000,
      1_000_000_007,
      1_700_000_000_000,
      1767225600050,
      -1767225600050,
      -0,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      2 ** 60,
      1.5,
      -0.25,
      1e21,
    ]) {
      expect(written(writeTsvInt, n)).toBe(String(n));
    }
    // Every digit count and sign, with zeros inside (the low nine digits are written zero-padded).
    for (let digits = 1; digits <= 16; digits++) {
      for (const n of [
        10 ** (digits - 1),
        10 ** digits - 1,
        10 ** (digits - 1) + 7,
        3 * 10 ** (digits - 1),
      ]) {
        if (!Number.isSafeInteger(n)) continue;
        expect(written(writeTsvInt, n)).toBe(String(n));
        expect(written(writeTsvInt, -n)).toBe(String(-n));
      }
    }
  });
});
