// Before chdb: it sets how chDB's allocator keeps memory (read once, when chdb loads).
import './chdbMemory.js';
import { mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { Config } from '../config/config.js';
import { storageError } from '../errors.js';
import { BufferPool } from './bufferPool.js';
import type { ChainStamp } from './chain.js';
import { type ChainedTable, DEAD_LETTERS_TABLE, EVENTS_TABLE } from './chainedTables.js';
import { InsertFiles } from './insertFiles.js';
import type { DeadLetter, EventRow, Store, TimeRange } from './store.js';
import { insertColumns, insertPayload } from './tsv.js';

/** Open ClickHouse: embedded chDB on `storage.data_dir`, or the server at `storage.clickhouse_url`. */
export function createClickHouseStore(storage: Config['storage']): Store {
  const mode = storage.clickhouse_url ? 'server' : 'embedded';
  let client: ClickHouseClient;
  /** Reads go through their own connection, so a look-up runs while an insert is still in progress. */
  let reader: ClickHouseClient;
  /**
   * Statements (alert saves, checkpoints, DDL) too: an alert is saved while the next batch of
   * events is being inserted, not after it.
   */
  let commander: ClickHouseClient;
  /** Embedded: the in-memory files inserts pass through (insertFiles.ts); a server gets HTTP. */
  let files: InsertFiles | null = null;
  if (storage.clickhouse_url) {
    // A server takes concurrent requests on the client's pool of HTTP connections.
    client = createClient({
      url: storage.clickhouse_url,
      username: storage.username,
      password: storage.password,
      request_timeout: 60_000,
    });
    reader = client;
    commander = client;
  } else {
    mkdirSync(storage.data_dir, { recursive: true });
    // One chDB connection runs one statement at a time; connections on the same data directory
    // share the engine and run side by side.
    client = chdbClient(createChdbConnection({ path: storage.data_dir }));
    // One file per insert that may run at once: events and dead letters.
    files = new InsertFiles(2);
    reader = chdbClient(createChdbConnection({ path: storage.data_dir }));
    commander = chdbClient(createChdbConnection({ path: storage.data_dir }));
  }
  const db = storage.database;

  /** Insert payloads, reused: one per insert in flight (events and dead letters) is enough. */
  const payloads = new BufferPool(2);

  /** Rows are sent as their canonical lines (canonicalForm.ts), chain columns first when chained. */
  async function insert<Row extends object>(
    table: ChainedTable<Row>,
    rows: Row[],
    dedupToken: string,
    chain?: ChainStamp,
  ): Promise<number | undefined> {
    if (rows.length === 0) return undefined;
    const columns = insertColumns(table.form.names, chain);
    let pooled: Buffer | undefined;
    const values = insertPayload(
      rows.map((r) => table.form.bytes(r)),
      chain,
      (size) => (pooled = payloads.take(size)),
    );
    const target = `${db}.${table.name}`;
    try {
      if (files) {
        const file = await files.take();
        try {
          await file.write(values);
          payloads.give(pooled!);
          await client.command({
            query:
              `INSERT INTO ${target} (${columns.join(', ')}) FROM INFILE ${quote(file.path)} ` +
              `SETTINGS insert_deduplication_token = ${quote(dedupToken)}, insert_deduplicate = 1 ` +
              'FORMAT TabSeparated',
          });
        } catch (err) {
          files.drop(file);
          throw err;
        }
        files.give(file);
      } else {
        await client.insert({
          table: target,
          columns: columns as [string, ...string[]],
          values: Readable.from([values]),
          format: 'TabSeparated',
          clickhouse_settings: { insert_deduplication_token: dedupToken, insert_deduplicate: 1 },
        });
        // Only after success: a failed request may not have let go of its body yet.
        payloads.give(pooled!);
      }
    } catch (err) {
      throw storageError(`insert into ${table.name}`, err);
    }
    table.form.forget(rows);
    return chain?.link.batch_seq;
  }

  async function query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    try {
      // Same output in both modes: 64-bit integers as JSON numbers (a server quotes them by default),
      // and a dedup look-up, which inlines a whole batch of ids, may be that long.
      const settings = { output_format_json_quote_64bit_integers: 0 as const, ...sizeFor(sql) };
      const rs = await reader.query({
        query: sql,
        query_params: params,
        format: 'JSONEachRow',
        clickhouse_settings: settings,
      });
      return await rs.json<T>();
    } catch (err) {
      throw storageError('query', err);
    }
  }

  return {
    mode,
    database: db,
    insertEvents: (rows: EventRow[], token: string, chain) => insert(EVENTS_TABLE, rows, token, chain),
    insertDeadLetters: (rows: DeadLetter[], token: string, chain) =>
      insert(DEAD_LETTERS_TABLE, rows, token, chain),
    prepareEvents(rows) {
      for (const r of rows) EVENTS_TABLE.form.bytes(r);
    },
    async storedEventIds(ids, ranges) {
      if (ids.length === 0 || ranges.length === 0) return new Set();
      const rows = await query<{ id: string }>(storedIdsQuery(db, ids, ranges));
      return new Set(rows.map((r) => r.id));
    },
    async storedDeadLetterIds(ids) {
      if (ids.length === 0) return new Set();
      const rows = await query<{ id: string }>(
        `SELECT id FROM ${db}.dead_letters WHERE id IN (${idSet(ids)})`,
      );
      return new Set(rows.map((r) => r.id));
    },
    query,
    async command(sql, params) {
      try {
        await commander.command({ query: sql, query_params: params, clickhouse_settings: sizeFor(sql) });
      } catch (err) {
        throw storageError('command', err);
      }
    },
    async close() {
      if (reader !== client) await reader.close();
      if (commander !== client) await commander.close();
      await client.close();
      await files?.close();
    },
  };
}

/** A client over a chDB connection. */
function chdbClient(connection: unknown): ClickHouseClient {
  // chdb types its Connection against @clickhouse/client-common, which the client now bundles itself:
  // the shapes match at run time, the declarations come from two packages.
  return createClient({
    connection: connection as NonNullable<Parameters<typeof createClient>[0]>['connection'],
  });
}

/**
 * Which of `ids` are stored with a time in one of `ranges`. Ids go inline rather than as a parameter:
 * a server caps URL parameters far below a batch. The time ranges go first (PREWHERE), and the
 * `ids_by_time` projection (migration 7) holds ids sorted by time, so only the rows of the batch's
 * ranges are read, however many the hours around them hold. The id bloom filter finds a few ids
 * fast; a batch of thousands hits nearly every granule, and checking each granule's filter for
 * every id then costs more than reading the ids.
 */
export function storedIdsQuery(db: string, ids: string[], ranges: readonly TimeRange[]): string {
  const inRanges = ranges
    .map(
      ({ from, to }) =>
        `(time >= fromUnixTimestamp64Milli(${Math.floor(from)}, 'UTC') AND time <= fromUnixTimestamp64Milli(${Math.ceil(to)}, 'UTC'))`,
    )
    .join(' OR ');
  return `SELECT id FROM ${db}.token_events
         PREWHERE ${inRanges}
         WHERE id IN (${idSet(ids)})
         ${ids.length > MANY_IDS ? 'SETTINGS use_skip_indexes = 0' : ''}`;
}

/** Above this many ids, a dedup look-up reads the ids rather than asking the bloom filter. */
const MANY_IDS = 1_000;

/**
 * Room for a long statement: a dedup look-up inlines a whole batch of ids, and an alert insert its
 * rows, well past ClickHouse's default max_query_size (256 KiB).
 */
function sizeFor(sql: string): { max_query_size?: string } {
  return sql.length > 200_000 ? { max_query_size: String(3 * sql.length + 1024) } : {};
}

/**
 * A set of ids as ONE string literal split by ClickHouse: parsing one literal is ~5× faster than
 * parsing a list of 30,000. Event ids cannot hold a newline (the schema forbids control characters);
 * dead-letter ids are hex.
 */
function idSet(ids: string[]): string {
  return `SELECT arrayJoin(splitByChar('\\n', ${quote(ids.join('\n'))}))`;
}

/** A ClickHouse string literal. */
export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
