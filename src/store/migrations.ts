import { ChoirError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Store } from './store.js';

export interface Migration {
  version: number;
  name: string;
  /** Statements with `{db}` for the database; each must be safe to run twice. */
  up: string[];
  /** Run only against a ClickHouse server: chDB has no access control (CREATE ROLE is refused there). */
  serverOnly?: boolean;
}

/** Chain columns of a chained table (see src/store/chain.ts); rows stored before version 2 have chain_id ''. */
const chainColumns = (table: string) =>
  `ALTER TABLE {db}.${table}
     ADD COLUMN IF NOT EXISTS chain_id LowCardinality(String),
     ADD COLUMN IF NOT EXISTS batch_seq UInt64,
     ADD COLUMN IF NOT EXISTS batch_rows UInt32,
     ADD COLUMN IF NOT EXISTS batch_time DateTime64(3, 'UTC'),
     ADD COLUMN IF NOT EXISTS prev_hash LowCardinality(String),
     ADD COLUMN IF NOT EXISTS batch_hash LowCardinality(String),
     ADD COLUMN IF NOT EXISTS signature LowCardinality(String),
     ADD COLUMN IF NOT EXISTS row_hash UInt32`;

/**
 * Append-only list: never edit a shipped migration, add the next version.
 * Only features present in both current ClickHouse LTS servers and chDB.
 */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'token_events and dead_letters',
    up: [
      // Hour first, then token: dedup look-ups and time-range scans read only the hours they need,
      // and a per-token timeline still uses the index through the second key column.
      `CREATE TABLE IF NOT EXISTS {db}.token_events (
        id String,
        type LowCardinality(String),
        time DateTime64(3, 'UTC'),
        token_id String,
        token_kind LowCardinality(String),
        principal String,
        scopes Array(String),
        expires_at Nullable(DateTime64(3, 'UTC')),
        allowed_cidrs Array(String),
        replaces String,
        request_scope LowCardinality(String),
        request_action LowCardinality(String),
        request_resource String,
        request_method LowCardinality(String),
        request_path String,
        source_ip String,
        user_agent LowCardinality(String),
        status UInt16,
        reason String,
        actor String,
        tenant LowCardinality(String),
        source LowCardinality(String),
        attributes Map(String, String),
        raw String CODEC(ZSTD(3)),
        ingest_source LowCardinality(String),
        ingest_partition Int32,
        ingest_offset Int64,
        ingested_at DateTime64(3, 'UTC'),
        INDEX id_bloom id TYPE bloom_filter(0.001) GRANULARITY 1,
        INDEX token_bloom token_id TYPE bloom_filter(0.01) GRANULARITY 1
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(time)
      ORDER BY (toStartOfHour(time), token_id, time)
      SETTINGS non_replicated_deduplication_window = 10000`,
      `CREATE TABLE IF NOT EXISTS {db}.dead_letters (
        id String,
        received_at DateTime64(3, 'UTC'),
        source LowCardinality(String),
        partition Int32,
        offset Int64,
        reason String,
        payload String CODEC(ZSTD(3))
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(received_at)
      ORDER BY (id, received_at)
      SETTINGS non_replicated_deduplication_window = 10000`,
    ],
  },
  {
    version: 2,
    name: 'hash chain columns on token_events and dead_letters',
    // Each row carries its batch's link: one insert stores a link and its rows together, or neither.
    up: [chainColumns('token_events'), chainColumns('dead_letters')],
  },
  {
    version: 3,
    name: 'writer role: SELECT and INSERT on the log tables only',
    serverOnly: true,
    // Read and append, never ALTER, DELETE, TRUNCATE or DROP: on the whole database, so Choir's
    // own tables added later (alerts, …) are covered without another grant.
    up: ['CREATE ROLE IF NOT EXISTS {db}_writer', 'GRANT SELECT, INSERT ON {db}.* TO {db}_writer'],
  },
  {
    version: 4,
    name: 'alerts',
    // Saving an alert inserts its current state; the larger version (its count) wins at merge and
    // under FINAL, and for equal versions the row inserted last, so an alert is never dropped.
    up: [
      `CREATE TABLE IF NOT EXISTS {db}.alerts (
        id String,
        kind LowCardinality(String),
        rule String,
        severity LowCardinality(String),
        token_id String,
        principal String,
        tenant LowCardinality(String),
        first_seen DateTime64(3, 'UTC'),
        last_seen DateTime64(3, 'UTC'),
        count UInt64,
        evidence Array(String),
        summary String,
        status LowCardinality(String),
        tags Array(String),
        response String,
        details String,
        version UInt64,
        updated_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY id`,
    ],
  },
  {
    version: 5,
    name: 'alert_log: every saved alert state, hash-chained',
    // The chain cannot live in `alerts`: ReplacingMergeTree drops older versions of an alert at
    // background merges, and a link whose rows a merge removed would read as tampered. So every
    // save is appended here too, a plain MergeTree nothing ever merges away, and chained like the
    // events; `alerts` stays the queryable current state.
    up: [
      `CREATE TABLE IF NOT EXISTS {db}.alert_log (
        id String,
        kind LowCardinality(String),
        rule String,
        severity LowCardinality(String),
        token_id String,
        principal String,
        tenant LowCardinality(String),
        first_seen DateTime64(3, 'UTC'),
        last_seen DateTime64(3, 'UTC'),
        count UInt64,
        evidence Array(String),
        summary String,
        status LowCardinality(String),
        tags Array(String),
        response String,
        details String,
        version UInt64,
        saved_at DateTime64(3, 'UTC')
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(saved_at)
      ORDER BY (id, saved_at)`,
      chainColumns('alert_log'),
    ],
  },
  {
    version: 6,
    name: 'detect_checkpoints: how far detection output is saved, per writer',
    // One row per save that moves it; the latest saved_at wins (and, for equal ones, the row
    // inserted last). A restart learns silently only up to it and re-runs the rest live.
    up: [
      `CREATE TABLE IF NOT EXISTS {db}.detect_checkpoints (
        writer_id String,
        time DateTime64(3, 'UTC'),
        event_id String,
        saved_at DateTime64(3, 'UTC')
      ) ENGINE = ReplacingMergeTree(saved_at)
      ORDER BY writer_id`,
    ],
  },
  {
    version: 7,
    name: 'token_events: event ids by time, for the dedup look-up',
    // The sort key is hour first, then token, so a look-up of a batch's ids over its few seconds
    // read the time column of its whole hour: at 10,000 events/s that is up to 36M rows for every
    // batch. This projection keeps (time, id) sorted by time; the look-up reads only its range.
    up: [
      'ALTER TABLE {db}.token_events ADD PROJECTION IF NOT EXISTS ids_by_time (SELECT id, time ORDER BY time, id)',
      'ALTER TABLE {db}.token_events MATERIALIZE PROJECTION ids_by_time',
    ],
  },
  {
    version: 8,
    name: 'alerts: filled from alert_log by a materialized view',
    // Every alert state is saved to alert_log; `alerts` is its current state. The view writes it
    // within the same insert, so saving an alert is one statement instead of two in a row.
    up: [
      `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.alerts_from_log TO {db}.alerts AS
       SELECT id, kind, rule, severity, token_id, principal, tenant, first_seen, last_seen, count,
              evidence, summary, status, tags, response, details, version, saved_at AS updated_at
       FROM {db}.alert_log`,
    ],
  },
  {
    version: 9,
    name: 'detect_checkpoints: the place in the event chain detection got to',
    // A late event is behind the checkpoint's (time, id) yet may be stored after it was saved:
    // a restart re-runs the events of the writer's chain after this link instead of restoring them.
    up: [
      'ALTER TABLE {db}.detect_checkpoints ADD COLUMN IF NOT EXISTS stored_seq Nullable(UInt64) AFTER event_id',
    ],
  },
];

/** Apply every migration not yet recorded, in order. Safe to run at every start and from several instances. */
export async function migrate(store: Store, logger: Logger, migrations = MIGRATIONS): Promise<number[]> {
  const db = store.database;
  // Up to date: no DDL at all, so an instance running as the writer role (no CREATE, no ALTER) starts.
  const recorded = await appliedVersions(store).catch(() => null);
  if (recorded && migrations.every((m) => recorded.has(m.version))) return [];
  await store.command(`CREATE DATABASE IF NOT EXISTS ${db}`).catch((err) => {
    throw isDenied(err) ? adminNeeded(err) : err;
  });
  await store.command(
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations
     (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = ReplacingMergeTree ORDER BY version`,
  );
  const done = new Set(
    (await store.query<{ version: number }>(`SELECT version FROM ${db}.schema_migrations FINAL`)).map((r) =>
      Number(r.version),
    ),
  );
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    try {
      if (!m.serverOnly || store.mode === 'server') {
        for (const sql of m.up) await store.command(sql.replaceAll('{db}', db));
      }
    } catch (err) {
      throw adminNeeded(err, `migration ${m.version} (${m.name}) failed: `);
    }
    // INSERT … SELECT, not VALUES: chDB refuses inline VALUES while the process has a piped stdin.
    await store.command(`INSERT INTO ${db}.schema_migrations (version, name) SELECT {v:UInt32}, {n:String}`, {
      v: m.version,
      n: m.name,
    });
    logger.info({ version: m.version, name: m.name }, 'migration applied');
    applied.push(m.version);
  }
  return applied;
}

/** A failure to change the schema; when it is a missing privilege, say who can run it. */
function adminNeeded(err: unknown, prefix = ''): ChoirError {
  const hint = isDenied(err)
    ? '; the schema is out of date and this user may not change it: run `choir migrate` once as a ClickHouse ' +
      'user with DDL rights and access management (the writer role is made for running instances, not migrations)'
    : '';
  return new ChoirError('MIGRATION_FAILED', `${prefix}${errorMessage(err)}${hint}`, { cause: err });
}

function isDenied(err: unknown): boolean {
  return /ACCESS_DENIED|Not enough privileges/i.test(errorMessage(err));
}

async function appliedVersions(store: Store): Promise<Set<number>> {
  const rows = await store.query<{ version: number }>(
    `SELECT version FROM ${store.database}.schema_migrations FINAL`,
  );
  return new Set(rows.map((r) => Number(r.version)));
}

/**
 * Retention is a setting, not a migration: applied at every start so changing it takes effect.
 * A table whose TTL already matches is left alone (the writer role may not ALTER).
 */
export async function applyRetention(store: Store, days: number): Promise<void> {
  const db = store.database;
  for (const [table, column] of [
    ['token_events', 'ingested_at'],
    ['dead_letters', 'received_at'],
  ] as const) {
    if ((await retentionDays(store, table)) === days) continue;
    const ttl = days > 0 ? `MODIFY TTL toDateTime(${column}) + INTERVAL ${days} DAY` : 'REMOVE TTL';
    try {
      await store.command(`ALTER TABLE ${db}.${table} ${ttl}`);
    } catch (err) {
      if (isDenied(err)) {
        throw new ChoirError(
          'MIGRATION_FAILED',
          `storage.retention_days is now ${days} but this user may not change the TTL of ${table}: ` +
            'run `choir migrate` once as a ClickHouse user with DDL rights',
          { cause: err },
        );
      }
      // Removing a TTL that was never set is an error in ClickHouse; nothing to do then.
      if (days > 0 || !/TTL|BAD_ARGUMENTS/i.test(errorMessage(err))) throw err;
    }
  }
}

/** The days of a table's TTL as applyRetention set it; 0 without one, null when it cannot be read. */
async function retentionDays(store: Store, table: string): Promise<number | null> {
  const [row] = await store.query<{ q: string }>(
    'SELECT create_table_query AS q FROM system.tables WHERE database = {db:String} AND name = {t:String}',
    { db: store.database, t: table },
  );
  if (!row) return null;
  const m = /\bTTL toDateTime\(\w+\) \+ toIntervalDay\((\d+)\)/.exec(row.q);
  return m ? Number(m[1]) : /\bTTL\b/.test(row.q) ? null : 0;
}
