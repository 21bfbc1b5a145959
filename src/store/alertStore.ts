import { hostname } from 'node:os';
import type { Alert, AlertStatus } from '../detect/alert.js';
import type { Logger } from '../logger.js';
import { createLogger } from '../logger.js';
import { CHAIN_COLUMNS, type ChainStamp } from './chain.js';
import { ALERT_LOG_TABLE, type AlertLogRow } from './chainedTables.js';
import { createChainWriter } from './chainWriter.js';
import { quote } from './clickhouseStore.js';
import type { Store } from './store.js';

/**
 * Alerts as stored in `<db>.alerts` (migration 4): one row per saved state, the highest version read.
 * A save is one insert into `<db>.alert_log` (migration 5), a link of this writer's chain that
 * `choir verify` checks, and a view copies it into `alerts` (migration 8): the log keeps every
 * state, where `alerts` merges old ones away.
 */
export interface AlertStore {
  /** Insert the current state of each alert, in one insert. */
  save(alerts: readonly Alert[]): Promise<void>;
  /** Alerts in their final state, by first_seen then id; `since` (epoch ms) filters on last_seen. */
  list(filter?: { status?: AlertStatus; since?: number }): Promise<Alert[]>;
  /** The stored state of these ids (absent ids are left out). */
  get(ids: readonly string[]): Promise<Alert[]>;
  /** This writer's detection checkpoint (migration 6); null when none was saved. */
  checkpoint(): Promise<Checkpoint | null>;
  /** Record that every alert detection raised for events up to `at` is saved (see AlertSaver). */
  saveCheckpoint(at: Checkpoint): Promise<void>;
}

/**
 * How far detection got: every event up to (time, id), in the order it processes events, went
 * through it, except late ones stored after `storedSeq`. That is the `batch_seq` in this writer's
 * event chain up to which every stored event was fed or is after (time, id); null in checkpoints
 * saved before migration 9, or by a run that did not rebuild from the log.
 */
export interface Checkpoint {
  time: number;
  id: string;
  storedSeq: number | null;
}

const COLUMNS = `id, kind, rule, severity, token_id, principal, tenant,
  toUnixTimestamp64Milli(first_seen) AS first_ms, toUnixTimestamp64Milli(last_seen) AS last_ms,
  count, evidence, summary, status, tags, response, details`;

const ALERT_FIELDS = `id String, kind String, rule String, severity String, token_id String, principal String,
  tenant String, first_seen DateTime64(3, 'UTC'), last_seen DateTime64(3, 'UTC'), count UInt64,
  evidence Array(String), summary String, status String, tags Array(String), response String,
  details String, version UInt64`;
const LOG_STRUCTURE = `${ALERT_FIELDS}, saved_at DateTime64(3, 'UTC'), chain_id String, batch_seq UInt64,
  batch_rows UInt32, batch_time DateTime64(3, 'UTC'), prev_hash String, batch_hash String, signature String,
  row_hash UInt32`;
const LOG_COLUMNS = [...ALERT_LOG_TABLE.form.names, ...CHAIN_COLUMNS].join(', ');

export interface AlertStoreOptions {
  now?: () => number;
  /**
   * The writer's chain in alert_log: `storage.writer_id` and `security.chain_key`. Defaults to
   * what a default config has (the host name, unsigned); pass the configured ones.
   */
  chain?: { chainId: string; key: string; logger?: Logger };
}

interface AlertRow {
  id: string;
  kind: string;
  rule: string;
  severity: Alert['severity'];
  token_id: string;
  principal: string;
  tenant: string;
  first_ms: number;
  last_ms: number;
  count: number;
  evidence: string[];
  summary: string;
  status: AlertStatus;
  tags: string[];
  response: string;
  details: string;
}

/**
 * Version = count: a repeat merged into an alert only ever raises its count, so a later state
 * wins over an earlier one, and for equal counts ReplacingMergeTree keeps the row inserted last.
 */
export function createAlertStore(store: Store, options: AlertStoreOptions = {}): AlertStore {
  const table = `${store.database}.alerts`;
  const now = options.now ?? Date.now;
  const chain = options.chain ?? { chainId: hostname(), key: '' };
  const writer = createChainWriter({
    store,
    table: ALERT_LOG_TABLE,
    chainId: chain.chainId,
    key: chain.key,
    logger: chain.logger ?? createLogger('warn'),
  });
  const read = async (where: string, params: Record<string, unknown>) =>
    (
      await store.query<AlertRow>(
        `SELECT ${COLUMNS} FROM ${table} FINAL WHERE ${where} ORDER BY first_seen, id`,
        params,
      )
    ).map(fromRow);
  // Links of one chain are made one after another: each needs the previous one's hash.
  let last: Promise<unknown> = Promise.resolve();
  const save = async (alerts: readonly Alert[]): Promise<void> => {
    if (alerts.length === 0) return;
    const savedAt = now();
    const logRows = alerts.map((a) => toLogRow(a, savedAt));
    // One insert: `alerts` is filled from the log by a view (migration 8), so a state Choir acted
    // on is on record whenever it shows in `alerts`. A retry after a failure logs the state again,
    // as a new link; `alerts` keeps one row per version.
    const stamp = await writer.link(logRows);
    try {
      await insertLogRows(store, logLines(logRows, stamp));
    } catch (err) {
      writer.forget();
      throw err;
    }
    writer.stored(stamp);
  };
  return {
    save(alerts) {
      const run = last.then(() => save(alerts));
      last = run.catch(() => undefined);
      return run;
    },
    list(filter = {}) {
      const where = ['1'];
      if (filter.status) where.push('status = {status:String}');
      if (filter.since !== undefined)
        where.push("last_seen >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')");
      return read(where.join(' AND '), { status: filter.status, since: filter.since });
    },
    get(ids) {
      if (ids.length === 0) return Promise.resolve([]);
      // Inline, not a parameter: a server caps URL parameters, and a replay may open many at once.
      return read(`id IN (${ids.map(quote).join(',')})`, {});
    },
    async checkpoint() {
      const [row] = await store.query<{ time: number; id: string; seq: number | null }>(
        `SELECT toUnixTimestamp64Milli(time) AS time, event_id AS id, stored_seq AS seq
         FROM ${store.database}.detect_checkpoints FINAL WHERE writer_id = {w:String}`,
        { w: chain.chainId },
      );
      if (row === undefined) return null;
      return { time: Number(row.time), id: row.id, storedSeq: row.seq === null ? null : Number(row.seq) };
    },
    saveCheckpoint(at) {
      // INSERT … SELECT, not VALUES: chDB refuses inline VALUES while the process has a piped stdin.
      return store.command(
        `INSERT INTO ${store.database}.detect_checkpoints (writer_id, time, event_id, stored_seq, saved_at)
         SELECT {w:String}, fromUnixTimestamp64Milli({t:Int64}, 'UTC'), {id:String},
                {q:Nullable(UInt64)}, fromUnixTimestamp64Milli({s:Int64}, 'UTC')`,
        { w: chain.chainId, t: at.time, id: at.id, q: at.storedSeq, s: now() },
      );
    },
  };
}

/**
 * alert_log rows as one string literal in the statement's body: no URL-length limit on a server,
 * and chDB refuses inline insert data (`FORMAT … <rows>`) whenever the process has a stdin.
 */
function insertLogRows(store: Store, lines: string[]) {
  return store.command(
    `INSERT INTO ${store.database}.alert_log (${LOG_COLUMNS}) SELECT * FROM format(JSONEachRow, ${quote(LOG_STRUCTURE)}, ${quote(lines.join('\n'))})`,
  );
}

function toLogRow(a: Alert, savedAt: number): AlertLogRow {
  return {
    id: a.id,
    kind: a.kind,
    rule: a.rule,
    severity: a.severity,
    token_id: a.token_id,
    principal: a.principal,
    tenant: a.tenant,
    first_seen: a.first_seen,
    last_seen: a.last_seen,
    count: a.count,
    evidence: [...a.evidence],
    summary: a.summary,
    status: a.status,
    tags: [...a.tags],
    response: JSON.stringify(a.response),
    details: JSON.stringify(a.details),
    version: a.count,
    saved_at: savedAt,
  };
}

/** The log rows with their link: the first row carries the link's hashes (see chain.ts). */
function logLines(rows: AlertLogRow[], stamp: ChainStamp): string[] {
  const { link } = stamp;
  return rows.map((r, i) =>
    JSON.stringify({
      ...r,
      first_seen: dateTime(r.first_seen),
      last_seen: dateTime(r.last_seen),
      saved_at: dateTime(r.saved_at),
      chain_id: link.chain_id,
      batch_seq: link.batch_seq,
      batch_rows: link.batch_rows,
      batch_time: dateTime(link.batch_time),
      prev_hash: i === 0 ? link.prev_hash : '',
      batch_hash: i === 0 ? link.batch_hash : '',
      signature: i === 0 ? link.signature : '',
      row_hash: stamp.rowHashes[i],
    }),
  );
}

function fromRow(r: AlertRow): Alert {
  return {
    id: r.id,
    kind: r.kind,
    rule: r.rule,
    severity: r.severity,
    token_id: r.token_id,
    principal: r.principal,
    tenant: r.tenant,
    first_seen: Number(r.first_ms),
    last_seen: Number(r.last_ms),
    count: Number(r.count),
    evidence: r.evidence,
    summary: r.summary,
    status: r.status,
    tags: r.tags,
    response: JSON.parse(r.response || '{"confirm":"manual","revoke":false}'),
    details: JSON.parse(
      r.details || '{"source_ips":[],"user_agents":[],"scopes":[],"statuses":[],"context":{}}',
    ),
  };
}

/** `YYYY-MM-DD hh:mm:ss.sss` in UTC: what DateTime64(3, 'UTC') parses without best-effort mode. */
function dateTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** An alert as one JSON object for people and scripts (`choir replay`, `choir alerts list --json`). */
export function alertJson(a: Alert): Record<string, unknown> {
  return {
    ...a,
    first_seen: new Date(a.first_seen).toISOString(),
    last_seen: new Date(a.last_seen).toISOString(),
  };
}
