import { linkHash, signatureValid } from './chain.js';

/** What ClickHouse returns per stored batch (chain_id, batch_seq): the verifier's raw material. */
export interface StoredBatch {
  seq: number;
  /** Rows stored with this (chain_id, batch_seq). */
  n: number;
  /** batch_rows and batch_time, which every row of a link carries… */
  batch_rows: number;
  batch_time: number;
  /** …false when its rows disagree on them. */
  consistent: boolean;
  /** The link's hashes, carried by one row per insert: exactly one version when intact. */
  links: StoredLink[];
  /** content_hash recomputed from the stored rows (chain.ts). */
  content: string;
  /**
   * Rows that can be named as not what Choir wrote (row_hash no longer matches the content, or a
   * text holds a byte Choir never writes), and up to 20 of their ids.
   */
  strays: number;
  stray_ids: string[];
}

export interface StoredLink {
  prev_hash: string;
  batch_hash: string;
  signature: string;
}

export type ProblemKind =
  | 'changed'
  | 'missing'
  | 'added'
  | 'link_altered'
  | 'broken_link'
  | 'missing_links'
  | 'unsigned'
  | 'bad_signature'
  | 'unchained'
  | 'unlogged';

export interface Problem {
  table: string;
  /** '' for rows outside any chain. */
  chain_id: string;
  /** The batch (link) involved; for missing_links the first missing one. */
  batch_seq: number | null;
  kind: ProblemKind;
  /** Rows involved, when countable. */
  rows: number | null;
  /** Ids of rows involved, when they can be named (up to 20). */
  ids: string[];
  detail: string;
}

export interface ChainCheck {
  table: string;
  chainId: string;
  /** Signature key; '' when signatures are not checked. */
  key: string;
  /**
   * The link before the first one checked: `{ seq: 0, hash: GENESIS }` from the chain's start, the
   * stored predecessor for a range, null when it is gone by retention (nothing to compare with).
   */
  before: { seq: number; hash: string } | null;
}

/**
 * Check consecutive stored batches of one chain (sorted by seq), starting after `before`.
 * Pure: the verifier feeds it what ClickHouse computed; the problems name batch and kind.
 */
export function checkLinks(
  batches: StoredBatch[],
  c: ChainCheck,
): { problems: Problem[]; last: { seq: number; hash: string } | null } {
  const problems: Problem[] = [];
  const problem = (
    seq: number | null,
    kind: ProblemKind,
    detail: string,
    rows: number | null = null,
    ids: string[] = [],
  ) => problems.push({ table: c.table, chain_id: c.chainId, batch_seq: seq, kind, rows, ids, detail });
  let prev = c.before;
  for (const b of batches) {
    if (prev && b.seq > prev.seq + 1) {
      const [from, to] = [prev.seq + 1, b.seq - 1];
      problem(
        from,
        'missing_links',
        `batch${from === to ? ` ${from} is` : `es ${from}–${to} are`} missing: every row of ${from === to ? 'it' : 'them'} was deleted`,
      );
      prev = null; // the hash the next link names is gone: nothing to compare it with
    }
    const recomputed = b.links.map((l) =>
      linkHash({
        table: c.table,
        chain_id: c.chainId,
        batch_seq: b.seq,
        batch_rows: b.batch_rows,
        batch_time: b.batch_time,
        prev_hash: l.prev_hash,
        content_hash: b.content,
      }),
    );
    // Of several versions of the link (rows disagreeing), take the one whose hash holds, else the first.
    const i = Math.max(
      0,
      b.links.findIndex((l, k) => recomputed[k] === l.batch_hash),
    );
    const link = b.links[i];
    const intact = link !== undefined && recomputed[i] === link.batch_hash;
    if (!b.consistent || b.links.length > 1) {
      problem(
        b.seq,
        'link_altered',
        `rows of batch ${b.seq} disagree on their link fields: chain columns were edited, or two writers share this writer_id`,
        b.n,
      );
    }
    if (b.n < b.batch_rows) {
      const gone = b.batch_rows - b.n;
      const carrier = link ? '' : ", among them the row that carried the link's hashes";
      problem(
        b.seq,
        'missing',
        `${gone} of ${b.batch_rows} rows ${gone === 1 ? 'is' : 'are'} missing${carrier}`,
        gone,
      );
    } else if (!link) {
      problem(
        b.seq,
        'link_altered',
        `the hashes of batch ${b.seq} were cleared from the row that carried them`,
      );
    } else if (b.n > b.batch_rows) {
      problem(
        b.seq,
        'added',
        `${b.n - b.batch_rows} rows were added to a batch of ${b.batch_rows}`,
        b.n - b.batch_rows,
        b.stray_ids,
      );
    } else if (!intact) {
      problem(
        b.seq,
        'changed',
        b.strays > 0
          ? `${b.strays} row${b.strays === 1 ? '' : 's'} changed`
          : 'rows changed (or the link fields were edited); the changed rows cannot be named',
        b.strays || null,
        b.stray_ids,
      );
    } else if (b.strays > 0) {
      problem(
        b.seq,
        'changed',
        `the row_hash of ${b.strays} row${b.strays === 1 ? '' : 's'} was edited (the content is intact)`,
        b.strays,
        b.stray_ids,
      );
    }
    if (prev && link && link.prev_hash !== prev.hash) {
      problem(
        b.seq,
        'broken_link',
        prev.seq === 0
          ? `batch ${b.seq} should start the chain but names a previous link`
          : `batch ${b.seq} names a previous link that is not batch ${prev.seq} as stored: batch ${prev.seq} was rewritten`,
      );
    }
    if (c.key && link) {
      if (!link.signature)
        problem(b.seq, 'unsigned', `batch ${b.seq} is not signed, and a chain key is configured`);
      else if (!signatureValid(link.batch_hash, link.signature, c.key)) {
        problem(b.seq, 'bad_signature', `the signature of batch ${b.seq} does not match the chain key`);
      }
    }
    prev = link ? { seq: b.seq, hash: link.batch_hash } : null;
  }
  return { problems, last: prev };
}
