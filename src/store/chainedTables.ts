import { type CanonicalForm, canonicalForm } from './canonicalForm.js';
import type { DeadLetter, EventRow } from './store.js';

/** A table whose batches are chained: its canonical form and what a link needs from its rows. */
export interface ChainedTable<Row> {
  name: string;
  form: CanonicalForm<Row>;
  /** The column holding a row's ingestion time, and its value: batch_time is the latest in a batch. */
  ingestedColumn: string;
  ingestedAt(row: Row): number;
  /**
   * The row's partition, mirroring the table's `PARTITION BY toYYYYMM(...)` (migration 1). One
   * insert is atomic only within one partition, so a link never spans two: then a crash can never
   * leave part of a link stored.
   */
  partitionTime(row: Row): number;
}

/** token_events: every column Choir inserts but the chain's, in insert order: the one list of them. */
export const EVENTS_TABLE: ChainedTable<EventRow> = {
  name: 'token_events',
  form: canonicalForm<EventRow>([
    { name: 'id', kind: 'string' },
    { name: 'type', kind: 'string' },
    { name: 'time', kind: 'ms' },
    { name: 'token_id', kind: 'string' },
    { name: 'token_kind', kind: 'string' },
    { name: 'principal', kind: 'string' },
    { name: 'scopes', kind: 'strings' },
    { name: 'expires_at', kind: 'nullable_ms' },
    { name: 'allowed_cidrs', kind: 'strings' },
    { name: 'replaces', kind: 'string' },
    { name: 'request_scope', kind: 'string' },
    { name: 'request_action', kind: 'string' },
    { name: 'request_resource', kind: 'string' },
    { name: 'request_method', kind: 'string' },
    { name: 'request_path', kind: 'string' },
    { name: 'source_ip', kind: 'string' },
    { name: 'user_agent', kind: 'string' },
    { name: 'status', kind: 'int' },
    { name: 'reason', kind: 'string' },
    { name: 'actor', kind: 'string' },
    { name: 'tenant', kind: 'string' },
    { name: 'source', kind: 'string' },
    { name: 'attributes', kind: 'map' },
    { name: 'raw', kind: 'string' },
    { name: 'ingest_source', kind: 'string' },
    { name: 'ingest_partition', kind: 'int' },
    { name: 'ingest_offset', kind: 'int' },
    { name: 'ingested_at', kind: 'ms' },
  ]),
  ingestedColumn: 'ingested_at',
  ingestedAt: (r) => r.ingested_at,
  partitionTime: (r) => r.time,
};

/** dead_letters: chained the same way, as a chain of its own per writer. */
export const DEAD_LETTERS_TABLE: ChainedTable<DeadLetter> = {
  name: 'dead_letters',
  form: canonicalForm<DeadLetter>([
    { name: 'id', kind: 'string' },
    { name: 'received_at', kind: 'ms' },
    { name: 'source', kind: 'string' },
    { name: 'partition', kind: 'int' },
    { name: 'offset', kind: 'int' },
    { name: 'reason', kind: 'string' },
    { name: 'payload', kind: 'string' },
  ]),
  ingestedColumn: 'received_at',
  ingestedAt: (r) => r.received_at,
  partitionTime: (r) => r.received_at,
};

/** One saved state of an alert, as appended to `alert_log` (migration 5): times in epoch ms. */
export interface AlertLogRow {
  id: string;
  kind: string;
  rule: string;
  severity: string;
  token_id: string;
  principal: string;
  tenant: string;
  first_seen: number;
  last_seen: number;
  count: number;
  evidence: string[];
  summary: string;
  status: string;
  tags: string[];
  /** JSON of the alert's response and details. */
  response: string;
  details: string;
  version: number;
  saved_at: number;
}

/**
 * alert_log: Choir's own decisions (every alert state it saved), chained per writer. Not `alerts`
 * itself: its ReplacingMergeTree drops superseded versions at merges, which would break links.
 */
export const ALERT_LOG_TABLE: ChainedTable<AlertLogRow> = {
  name: 'alert_log',
  form: canonicalForm<AlertLogRow>([
    { name: 'id', kind: 'string' },
    { name: 'kind', kind: 'string' },
    { name: 'rule', kind: 'string' },
    { name: 'severity', kind: 'string' },
    { name: 'token_id', kind: 'string' },
    { name: 'principal', kind: 'string' },
    { name: 'tenant', kind: 'string' },
    { name: 'first_seen', kind: 'ms' },
    { name: 'last_seen', kind: 'ms' },
    { name: 'count', kind: 'int' },
    { name: 'evidence', kind: 'strings' },
    { name: 'summary', kind: 'string' },
    { name: 'status', kind: 'string' },
    { name: 'tags', kind: 'strings' },
    { name: 'response', kind: 'string' },
    { name: 'details', kind: 'string' },
    { name: 'version', kind: 'int' },
    { name: 'saved_at', kind: 'ms' },
  ]),
  ingestedColumn: 'saved_at',
  ingestedAt: (r) => r.saved_at,
  partitionTime: (r) => r.saved_at,
};

export const CHAINED_TABLES: readonly ChainedTable<never>[] = [
  EVENTS_TABLE,
  DEAD_LETTERS_TABLE,
  ALERT_LOG_TABLE,
];

/** UTC year×100+month, as ClickHouse's toYYYYMM. */
export function yyyymm(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
}

/** Rows grouped by partition, in first-seen order; one group (the same array) in the usual case. */
export function byPartition<Row>(rows: Row[], table: ChainedTable<Row>): Row[][] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    const t = table.partitionTime(r);
    if (t < min) min = t;
    if (t > max) max = t;
  }
  if (rows.length === 0 || yyyymm(min) === yyyymm(max)) return [rows];
  const groups = new Map<number, Row[]>();
  for (const r of rows) {
    const p = yyyymm(table.partitionTime(r));
    const g = groups.get(p);
    if (g) g.push(r);
    else groups.set(p, [r]);
  }
  return [...groups.values()];
}
