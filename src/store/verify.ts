import { GENESIS } from './chain.js';
import { CHAINED_TABLES, type ChainedTable } from './chainedTables.js';
import { checkLinks, type Problem, type StoredBatch } from './checkLinks.js';
import type { Store } from './store.js';
import { unloggedAlerts } from './verifyAlerts.js';
import { hashBatches, type IndexRow, linkIndex, type Segment, unchained } from './verifyQueries.js';

export interface VerifyOptions {
  store: Pick<Store, 'query' | 'database'>;
  /** `security.chain_key`: signatures are checked when set ('' skips them). */
  key: string;
  /** Only links written in [from, to] (their batch_time, epoch ms), and the continuity into them. */
  from?: number;
  to?: number;
  /** `storage.retention_days`: links this old may be partly expired, so they are not checked. */
  retentionDays: number;
  now?: number;
  /** Rows hashed per query: bounds ClickHouse's memory (32 bytes per row) and chDB's result size. */
  pageRows?: number;
  /** Problems listed in full; all are counted. */
  maxProblems?: number;
}

export interface ChainSummary {
  table: string;
  chain_id: string;
  first_seq: number;
  last_seq: number;
  links: number;
  rows: number;
  /** The last link checked: record it elsewhere to detect a later truncation of the chain. */
  head_hash: string;
}

export interface VerifyReport {
  intact: boolean;
  range: { from: string | null; to: string | null };
  signatures: 'checked' | 'not checked';
  chains: ChainSummary[];
  rows: number;
  links: number;
  /** The first problem of the first broken chain, in table, chain and batch order. */
  first_broken: Problem | null;
  problems: Problem[];
  problems_total: number;
  seconds: number;
  rows_per_s: number;
}

const DAY = 86_400_000;

/**
 * Recompute every link of every chain (events, dead letters, alert log) in range. The expensive part —
 * hashing every stored row — runs inside ClickHouse (canonicalForm.ts gives the same SQL the
 * writer's Node code mirrors); Node only compares and follows the links, a batch at a time.
 */
export async function verifyLog(opts: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const now = opts.now ?? Date.now();
  // A link older than retention minus a day may have lost rows to the TTL already.
  const cutoff = opts.retentionDays > 0 ? now - opts.retentionDays * DAY + DAY : Number.NEGATIVE_INFINITY;
  const range = {
    from: Math.max(opts.from ?? Number.NEGATIVE_INFINITY, cutoff),
    to: opts.to ?? Number.POSITIVE_INFINITY,
  };
  const problems: Problem[] = [];
  const chains: ChainSummary[] = [];
  let rows = 0;
  for (const table of CHAINED_TABLES) {
    const t = await verifyTable(opts, table, range);
    problems.push(...t.problems);
    chains.push(...t.chains);
    rows += t.rows;
  }
  // The current state of alerts against their log; not limited to the range: alerts is small.
  problems.push(...(await unloggedAlerts(opts.store)));
  const seconds = (performance.now() - started) / 1000;
  const max = opts.maxProblems ?? 100;
  return {
    intact: problems.length === 0,
    range: {
      from: opts.from === undefined ? null : new Date(opts.from).toISOString(),
      to: opts.to === undefined ? null : new Date(opts.to).toISOString(),
    },
    signatures: opts.key ? 'checked' : 'not checked',
    chains,
    rows,
    links: chains.reduce((s, c) => s + c.links, 0),
    first_broken: problems.find((p) => p.batch_seq !== null) ?? problems[0] ?? null,
    problems: problems.slice(0, max),
    problems_total: problems.length,
    seconds: Math.round(seconds * 1000) / 1000,
    rows_per_s: Math.round(rows / Math.max(seconds, 1e-6)),
  };
}

/** One table: its links in range hashed page by page, each chain followed, and rows outside any chain. */
async function verifyTable(
  opts: VerifyOptions,
  table: ChainedTable<never>,
  range: { from: number; to: number },
): Promise<{ problems: Problem[]; chains: ChainSummary[]; rows: number }> {
  const pageRows = opts.pageRows ?? 2_000_000;
  const segments: Segment[] = [];
  const befores = new Map<string, { seq: number; hash: string } | null>();
  for (const links of groupByChain(await linkIndex(opts.store, table))) {
    const chainId = links[0]!.chain_id;
    const inRange = links.filter((l) => l.t >= range.from && l.t <= range.to);
    if (inRange.length === 0) continue;
    const lo = inRange[0]!.seq;
    const hi = inRange.at(-1)!.seq;
    befores.set(chainId, predecessor(links, lo, opts.retentionDays > 0));
    segments.push(
      ...split(
        chainId,
        links.filter((l) => l.seq >= lo && l.seq <= hi),
        pageRows,
      ),
    );
  }
  const perChain = new Map<string, StoredBatch[]>();
  for (const page of pages(segments, pageRows)) {
    for (const b of await hashBatches(opts.store, table, page)) {
      const list = perChain.get(b.chain_id);
      if (list) list.push(b);
      else perChain.set(b.chain_id, [b]);
    }
  }
  const problems: Problem[] = [];
  const chains: ChainSummary[] = [];
  let rows = 0;
  for (const [chainId, batches] of perChain) {
    const { problems: found, last } = checkLinks(batches, {
      table: table.name,
      chainId,
      key: opts.key,
      before: befores.get(chainId) ?? null,
    });
    problems.push(...found);
    const n = batches.reduce((s, b) => s + b.n, 0);
    rows += n;
    chains.push({
      table: table.name,
      chain_id: chainId,
      first_seq: batches[0]!.seq,
      last_seq: batches.at(-1)!.seq,
      links: batches.length,
      rows: n,
      head_hash: last?.hash ?? '',
    });
  }
  const stray = await unchained(opts.store, table, range.from, range.to);
  rows += stray.n;
  if (stray.n > 0) {
    problems.push({
      table: table.name,
      chain_id: '',
      batch_seq: null,
      kind: 'unchained',
      rows: stray.n,
      ids: stray.ids,
      detail:
        `${stray.n} row${stray.n === 1 ? ' belongs' : 's belong'} to no batch of any chain: inserted behind ` +
        "Choir's back (or stored before the chain existed, by a Choir older than migration 2)",
    });
  }
  return { problems, chains, rows };
}

/**
 * Where checking a chain from `lo` starts: GENESIS from the chain's start; else the last stored
 * link before it (checkLinks reports any gap up to `lo`), unless retention may have removed it.
 */
function predecessor(
  links: IndexRow[],
  lo: number,
  retention: boolean,
): { seq: number; hash: string } | null {
  const earlier = links.filter((l) => l.seq < lo).at(-1);
  if (earlier && earlier.seq === lo - 1) return earlier;
  if (retention && lo > 1) return null;
  return earlier ?? { seq: 0, hash: GENESIS };
}

function groupByChain(index: IndexRow[]): IndexRow[][] {
  const out: IndexRow[][] = [];
  for (const r of index) {
    const row = { chain_id: r.chain_id, seq: Number(r.seq), n: Number(r.n), t: Number(r.t), hash: r.hash };
    const last = out.at(-1);
    if (last && last[0]!.chain_id === row.chain_id) last.push(row);
    else out.push([row]);
  }
  return out;
}

/** Consecutive links of one chain cut into runs of about `pageRows` rows. */
function split(chainId: string, links: IndexRow[], pageRows: number): Segment[] {
  const out: Segment[] = [];
  let cur: Segment | null = null;
  for (const l of links) {
    if (!cur || cur.rows + l.n > pageRows) {
      cur = { chainId, lo: l.seq, hi: l.seq, rows: 0 };
      out.push(cur);
    }
    cur.hi = l.seq;
    cur.rows += l.n;
  }
  return out;
}

/** Segments packed into queries of about `pageRows` rows (several small chains share one). */
function pages(segments: Segment[], pageRows: number): Segment[][] {
  const out: Segment[][] = [];
  let rows = 0;
  for (const s of segments) {
    if (out.length === 0 || rows + s.rows > pageRows) {
      out.push([]);
      rows = 0;
    }
    out.at(-1)!.push(s);
    rows += s.rows;
  }
  return out;
}
