import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalForm } from './canonicalForm.js';
import { DEAD_LETTERS_TABLE, EVENTS_TABLE } from './chainedTables.js';
import { DEAD_LETTER_COLUMNS, EVENT_COLUMNS } from './tsv.js';

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
const sample: Sample = {
  id: 'e1',
  time: 5,
  expires_at: null,
  scopes: ['a', 'bé'],
  attributes: { z: '1', '10': 'x' },
  status: -1,
};
/** The bytes the doc comment promises: texts each followed by 0xFF. */
const texts = (...t: string[]) =>
  Buffer.concat(t.flatMap((s) => [Buffer.from(s, 'utf8'), Buffer.from([0xff])]));

describe('canonicalForm()', () => {
  it('writes every text followed by 0xFF, arrays and maps with their counts first', () => {
    // Integer-like keys come first in a JavaScript object: the same order the TSV encoder writes.
    expect(form.encode(sample)).toEqual(texts('e1', '5', '', '2', 'a', 'bé', '2', '10', 'x', 'z', '1', '-1'));
  });

  it('hashes those bytes with SHA-256', () => {
    expect(form.digest(sample)).toEqual(createHash('sha256').update(form.encode(sample)).digest());
  });

  it('keeps a NUL inside a text as a NUL', () => {
    const withNul = { ...sample, id: 'a\0b', scopes: ['\0'] };
    expect(form.encode(withNul)).toEqual(texts('a\0b', '5', '', '1', '\0', '2', '10', 'x', 'z', '1', '-1'));
  });

  it('tells apart rows whose texts only move between columns', () => {
    const a = form.digest({ ...sample, id: 'ab', scopes: [] });
    const b = form.digest({ ...sample, id: 'a', scopes: ['b'] });
    expect(a).not.toEqual(b);
    expect(form.digest({ ...sample, expires_at: 0 })).not.toEqual(form.digest(sample));
  });

  it('never writes 0xFF except as the separator', () => {
    const bytes = form.encode({ ...sample, id: '\u00ff\uffff\ud800😀' });
    const separators = bytes.filter((b) => b === 0xff).length;
    expect(separators).toBe(12);
  });

  it('gives the same digests for a whole batch, NULs, non-ASCII and all', () => {
    const rows = Array.from(
      { length: 2_500 },
      (_, i): Sample => ({
        ...sample,
        id: i % 997 === 0 ? `nul\0${i}` : `évènement-${i}`,
        scopes: i % 3 ? [`s${i}`] : [],
        attributes: i % 5 ? { k: `${i}` } : ({} as Record<string, string>),
      }),
    );
    expect(form.digests(rows)).toEqual(rows.map((r) => form.digest(r)));
    const clean = rows.filter((r) => !r.id.includes('\0'));
    expect(form.digests(clean)).toEqual(clean.map((r) => form.digest(r)));
  });

  it('gives the SQL for the same digest over the listed columns', () => {
    expect(form.sqlDigest).toMatch(
      /^SHA256\(concat\(id, '\\xFF', toString\(toUnixTimestamp64Milli\(time\)\)/,
    );
    expect(form.sqlForeign).toContain("position(id, '\\xFF') > 0");
  });
});

describe('the chained tables', () => {
  it('cover every column Choir inserts, in insert order', () => {
    expect(EVENTS_TABLE.form.columns.map((c) => c.name)).toEqual([...EVENT_COLUMNS]);
    expect(DEAD_LETTERS_TABLE.form.columns.map((c) => c.name)).toEqual([...DEAD_LETTER_COLUMNS]);
  });
});
