import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ROW_ENCODING } from '../events/contract.js';
import { canonicalForm } from './canonicalForm.js';

interface Sample {
  id: string;
  time: number;
  expires_at: number | null;
  scopes: string[];
  attributes: Record<string, string>;
  status: number;
}

const form = canonicalForm<Sample>([
  { name: 'id', kind: 'string' },
  { name: 'time', kind: 'ms' },
  { name: 'expires_at', kind: 'nullable_ms' },
  { name: 'scopes', kind: 'strings' },
  { name: 'attributes', kind: 'map' },
  { name: 'status', kind: 'int' },
]);
const sample = (over: Partial<Sample> = {}): Sample => ({
  id: 'e1',
  time: 5,
  expires_at: null,
  scopes: ['a', 'bé'],
  attributes: { z: '1', '10': 'x' },
  status: -1,
  ...over,
});

describe('canonicalForm()', () => {
  it('writes the row as a TabSeparated line: NULL as \\N, arrays and maps quoted', () => {
    // Integer-like keys come first in a JavaScript object: the order the Map column then keeps.
    expect(form.line(sample())).toBe("e1\t5\t\\N\t['a','bé']\t{'10':'x','z':'1'}\t-1");
    expect(form.line(sample({ expires_at: 7, scopes: [], attributes: {} }))).toBe('e1\t5\t7\t[]\t{}\t-1');
  });

  it('escapes what TabSeparated escapes, in strings, array elements and map entries alike', () => {
    const nasty = "t\tn\nr\rz\0q'b\\s\bf\f";
    const escaped = "t\\tn\\nr\\rz\\0q\\'b\\\\s\\bf\\f";
    expect(form.line(sample({ id: nasty, scopes: [nasty], attributes: { [nasty]: nasty } }))).toBe(
      `${escaped}\t5\t\\N\t['${escaped}']\t{'${escaped}':'${escaped}'}\t-1`,
    );
  });

  it('hashes the UTF-8 bytes of the line with SHA-256', () => {
    const row = sample({ id: 'évènement😀' });
    expect(form.digest(row)).toBe(createHash('sha256').update(form.line(row), 'utf8').digest('hex'));
    expect(form.digests([row, sample()])).toEqual([form.digest(row), form.digest(sample())]);
  });

  it('tells apart rows whose texts only move between columns or elements', () => {
    const digest = (over: Partial<Sample>) => form.digest(sample(over));
    const variants = [
      digest({ id: 'ab', scopes: [] }),
      digest({ id: 'a', scopes: ['b'] }),
      digest({ id: 'a\tb', scopes: [] }),
      digest({ scopes: ['a,b'] }),
      digest({ scopes: ['a', 'b'] }),
      digest({ scopes: ["a','b"] }),
      digest({ attributes: { a: 'b' } }),
      digest({ attributes: { "a':'b": '' } }),
      digest({ expires_at: 0 }),
      digest({}),
    ];
    expect(new Set(variants).size).toBe(variants.length);
  });

  it('encodes a row once: the line is remembered for the row object until forgotten', () => {
    const row = sample();
    const first = form.line(row);
    row.id = 'changed';
    expect(form.line(row)).toBe(first);
    expect(form.line(sample({ id: 'changed' }))).not.toBe(first);
    form.forget([row]);
    expect(form.line(row)).toBe(form.line(sample({ id: 'changed' })));
  });

  it('never hands a copy of a row, or another form, the encoding remembered for the original', () => {
    // Rows from normalise declare the slot as an ordinary (enumerable) property, so a spread copies it.
    const row = { ...sample(), [ROW_ENCODING]: undefined };
    const line = form.line(row);
    const copy = { ...row, id: 'copied' };
    expect(copy[ROW_ENCODING]).toBeDefined();
    expect(form.line(copy)).toBe(form.line(sample({ id: 'copied' })));
    expect(form.line(row)).toBe(line);
    const idOnly = canonicalForm<Sample>([{ name: 'id', kind: 'string' }]);
    expect(idOnly.line(row)).toBe('e1');
    expect(form.line(row)).toBe(line);
  });

  it('gives the SQL for the same digest: formatRowNoNewline over the columns, times as epoch ms', () => {
    expect(form.sqlDigest).toBe(
      "SHA256(formatRowNoNewline('TabSeparated', id, toUnixTimestamp64Milli(time), toUnixTimestamp64Milli(expires_at), scopes, attributes, status))",
    );
  });
});
