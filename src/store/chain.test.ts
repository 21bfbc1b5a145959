import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  contentHash,
  EMPTY_HEAD,
  GENESIS,
  linkBatch,
  linkHash,
  rowLocator,
  signatureValid,
} from './chain.js';

/** Digests as the canonical form gives them: lowercase hex. */
const digest = (s: string) => createHash('sha256').update(s).digest('hex');
const opts = { table: 'token_events', chainId: 'host-a', head: EMPTY_HEAD, time: 1_700_000_000_000, key: '' };

/** The definition, over bytes: SHA-256 of the digests sorted bytewise, as uppercase hex. */
const reference = (hex: string[]) =>
  createHash('sha256')
    .update(
      Buffer.concat(hex.map((h) => Buffer.from(h, 'hex')).sort(Buffer.compare))
        .toString('hex')
        .toUpperCase(),
    )
    .digest('hex');

describe('contentHash()', () => {
  it('is SHA-256 over the digests sorted bytewise, in uppercase hex', () => {
    const [a, b] = [digest('a'), digest('b')];
    expect(contentHash([a, b])).toBe(reference([a, b]));
    expect(contentHash([b, a])).toBe(reference([a, b]));
  });

  it('orders thousands of digests, some sharing long prefixes, as a bytewise sort does', () => {
    const digests = Array.from({ length: 5_000 }, (_, i) => digest(`row ${i}`));
    for (let i = 0; i < 40; i++) digests.push(`abcdef01${digests[i]!.slice(8)}`);
    digests.push(`${'01'.repeat(31)}00`, '01'.repeat(32));
    expect(contentHash(digests)).toBe(reference(digests));
    expect(contentHash([...digests].reverse())).toBe(reference(digests));
  });

  it('changes when a row is added, removed or changed', () => {
    const rows = ['a', 'b', 'c'].map(digest);
    const base = contentHash(rows);
    expect(contentHash(rows.slice(1))).not.toBe(base);
    expect(contentHash([...rows, digest('d')])).not.toBe(base);
    expect(contentHash([digest('A'), ...rows.slice(1)])).not.toBe(base);
  });
});

describe('rowLocator()', () => {
  it("reads a digest's first 4 bytes little-endian, as ClickHouse's reinterpretAsUInt32", () => {
    for (const d of [digest('a'), digest('b'), `ff000080${'0'.repeat(56)}`]) {
      expect(rowLocator(d)).toBe(Buffer.from(d, 'hex').readUInt32LE(0));
    }
  });
});

describe('linkBatch()', () => {
  it('makes the first link after GENESIS and the next one after it', () => {
    const first = linkBatch([digest('a')], opts);
    expect(first.link).toMatchObject({ batch_seq: 1, batch_rows: 1, prev_hash: GENESIS, signature: '' });
    const second = linkBatch([digest('b')], {
      ...opts,
      head: { seq: 1, hash: first.link.batch_hash },
    });
    expect(second.link).toMatchObject({ batch_seq: 2, prev_hash: first.link.batch_hash });
  });

  it('is a pure function of the rows and the previous link', () => {
    const rows = [digest('a'), digest('b')];
    // The same rows in another order (as ClickHouse may return them) make the same link.
    expect(linkBatch(rows, opts).link).toEqual(linkBatch([...rows].reverse(), opts).link);
  });

  it('hashes every link field, so none can change unnoticed', () => {
    const { link } = linkBatch([digest('a')], opts);
    const { batch_hash, signature, ...fields } = link;
    expect(linkHash(fields)).toBe(batch_hash);
    for (const change of [
      { table: 'dead_letters' },
      { chain_id: 'host-b' },
      { batch_seq: 2 },
      { batch_rows: 2 },
      { batch_time: 1 },
      { prev_hash: 'f'.repeat(64) },
      { content_hash: 'e'.repeat(64) },
    ]) {
      expect(linkHash({ ...fields, ...change })).not.toBe(batch_hash);
    }
  });

  it('signs the link hash with HMAC-SHA256 when a key is configured', () => {
    const key = 'a-secret-of-sixteen+';
    const { link } = linkBatch([digest('a')], { ...opts, key });
    expect(link.signature).toBe(createHmac('sha256', key).update(link.batch_hash).digest('hex'));
    expect(signatureValid(link.batch_hash, link.signature, key)).toBe(true);
    expect(signatureValid(link.batch_hash, link.signature, 'another-secret-key')).toBe(false);
    expect(signatureValid(link.batch_hash, 'zz', key)).toBe(false);
  });

  it('gives each row its locator: the first 4 bytes of its digest', () => {
    const d = digest('a');
    expect(linkBatch([d], opts).rowHashes[0]).toBe(Buffer.from(d, 'hex').readUInt32LE(0));
  });
});
