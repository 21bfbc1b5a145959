import { describe, expect, it } from 'vitest';
import { GENESIS, linkHash, signHash } from './chain.js';
import { type ChainCheck, checkLinks, type StoredBatch } from './checkLinks.js';

const check: ChainCheck = {
  table: 'token_events',
  chainId: 'w1',
  key: '',
  before: { seq: 0, hash: GENESIS },
};

/** A stored chain of `n` intact batches of 10 rows, as the verifier's query would return it. */
function chain(n: number, key = ''): StoredBatch[] {
  const out: StoredBatch[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const content = `${seq}`.padStart(64, 'c');
    const shape = { batch_rows: 10, batch_time: 1000 + seq };
    const batch_hash = linkHash({
      table: 'token_events',
      chain_id: 'w1',
      batch_seq: seq,
      ...shape,
      prev_hash: prev,
      content_hash: content,
    });
    out.push({
      seq,
      n: 10,
      ...shape,
      consistent: true,
      links: [{ prev_hash: prev, batch_hash, signature: signHash(batch_hash, key) }],
      content,
      strays: 0,
      stray_ids: [],
    });
    prev = batch_hash;
  }
  return out;
}

const kinds = (batches: StoredBatch[], c: ChainCheck = check) =>
  checkLinks(batches, c).problems.map((p) => [p.kind, p.batch_seq]);

describe('checkLinks()', () => {
  it('finds nothing wrong with an intact chain and returns its last link', () => {
    const batches = chain(3);
    const { problems, last } = checkLinks(batches, check);
    expect(problems).toEqual([]);
    expect(last).toEqual({ seq: 3, hash: batches[2]!.links[0]!.batch_hash });
  });

  it('names a batch whose rows changed, with the rows it can name', () => {
    const batches = chain(3);
    batches[1] = { ...batches[1]!, content: 'f'.repeat(64), strays: 1, stray_ids: ['evt-7'] };
    const { problems } = checkLinks(batches, check);
    expect(problems).toEqual([
      expect.objectContaining({ kind: 'changed', batch_seq: 2, rows: 1, ids: ['evt-7'] }),
    ]);
  });

  it('counts rows missing from a batch and rows added to one', () => {
    const batches = chain(3);
    batches[0] = { ...batches[0]!, n: 8, content: 'f'.repeat(64) };
    batches[2] = { ...batches[2]!, n: 11, content: 'e'.repeat(64), strays: 1, stray_ids: ['forged'] };
    const { problems } = checkLinks(batches, check);
    expect(problems.map((p) => [p.kind, p.batch_seq, p.rows])).toEqual([
      ['missing', 1, 2],
      ['added', 3, 1],
    ]);
    expect(problems[1]!.ids).toEqual(['forged']);
  });

  it('reports a rewritten link at the link after it, whose prev_hash no longer matches', () => {
    const batches = chain(3);
    // Batch 2 rewritten with a hash recomputed over new content: it is self-consistent...
    const l = batches[1]!.links[0]!;
    const content = 'a'.repeat(64);
    const batch_hash = linkHash({
      table: 'token_events',
      chain_id: 'w1',
      batch_seq: 2,
      batch_rows: 10,
      batch_time: 1002,
      prev_hash: l.prev_hash,
      content_hash: content,
    });
    batches[1] = { ...batches[1]!, content, links: [{ ...l, batch_hash }] };
    // ...but batch 3 still names the original.
    expect(kinds(batches)).toEqual([['broken_link', 3]]);
  });

  it('reports whole batches deleted as missing links, and a chain that does not start at GENESIS', () => {
    const batches = chain(5);
    expect(kinds([batches[0]!, batches[3]!, batches[4]!])).toEqual([['missing_links', 2]]);
    expect(kinds(batches.slice(2))).toEqual([['missing_links', 1]]);
  });

  it('checks continuity into a range from the stored predecessor, or not at all when it expired', () => {
    const batches = chain(4);
    const before = { seq: 2, hash: batches[1]!.links[0]!.batch_hash };
    expect(kinds(batches.slice(2), { ...check, before })).toEqual([]);
    expect(kinds(batches.slice(2), { ...check, before: { seq: 2, hash: 'x' } })).toEqual([
      ['broken_link', 3],
    ]);
    expect(kinds(batches.slice(2), { ...check, before: null })).toEqual([]);
  });

  it('flags rows of one batch that disagree on their link fields', () => {
    const batches = chain(3);
    const l = batches[0]!.links[0]!;
    batches[0] = { ...batches[0]!, links: [l, { ...l, signature: 'ab' }] };
    batches[2] = { ...batches[2]!, consistent: false };
    expect(kinds(batches)).toEqual([
      ['link_altered', 1],
      ['link_altered', 3],
    ]);
  });

  it("notices when the row carrying a link's hashes is deleted or cleared", () => {
    const batches = chain(3);
    batches[1] = { ...batches[1]!, n: 9, content: 'f'.repeat(64), links: [] };
    expect(checkLinks(batches, check).problems.map((p) => [p.kind, p.batch_seq, p.rows])).toEqual([
      ['missing', 2, 1],
    ]);
    batches[1] = { ...batches[1]!, n: 10, links: [] };
    expect(kinds(batches)).toEqual([['link_altered', 2]]);
  });

  it('checks signatures when a key is given', () => {
    const key = 'chain-key-of-16+chars';
    expect(kinds(chain(2, key), { ...check, key })).toEqual([]);
    expect(kinds(chain(2), { ...check, key })).toEqual([
      ['unsigned', 1],
      ['unsigned', 2],
    ]);
    expect(kinds(chain(1, 'another-key-16-chars'), { ...check, key })).toEqual([['bad_signature', 1]]);
  });

  it('names rows whose row_hash alone was edited', () => {
    const batches = chain(1);
    batches[0] = { ...batches[0]!, strays: 2, stray_ids: ['a', 'b'] };
    expect(checkLinks(batches, check).problems).toEqual([
      expect.objectContaining({ kind: 'changed', batch_seq: 1, rows: 2, ids: ['a', 'b'] }),
    ]);
  });
});
