import type { StoredEvent } from '../events/contract.js';
import type { ChainStamp } from './chain.js';

/** Where an input came from: a Kafka topic/partition/offset, a file and line, or an HTTP request. */
export interface Origin {
  /** `kafka:<topic>`, `file:<name>`, `http`, `stdin`. */
  source: string;
  partition: number;
  /** Kafka offset or line number; -1 when the source has no position (HTTP). */
  offset: number;
}

/** A span of event time in epoch ms, both ends included. */
export interface TimeRange {
  from: number;
  to: number;
}

/** A stored event with its origin, as written to `token_events`. */
export interface EventRow extends StoredEvent {
  ingest_source: string;
  ingest_partition: number;
  ingest_offset: number;
  ingested_at: number;
}

/** Input that could not become an event: kept with the reason, never dropped. */
export interface DeadLetter extends Origin {
  /** Deterministic: the same bad input from the same place is stored once. */
  id: string;
  received_at: number;
  reason: string;
  payload: string;
}

/**
 * The one storage interface. Embedded chDB and a ClickHouse server both implement it
 * through @clickhouse/client; tests wrap it to inject faults.
 */
export interface Store {
  readonly mode: 'embedded' | 'server';
  readonly database: string;
  /**
   * Insert rows; `dedupToken` makes a retried insert of the same batch a no-op in ClickHouse.
   * `chain` fills the rows' chain columns (chainedStore.ts makes it; without it they stay empty).
   * Resolves to the rows' place in the writer's chain of that table: the `batch_seq` of the (last)
   * link that stored them, or undefined when nothing was chained. Detection checkpoints the events'
   * (see rebuildDetection).
   */
  insertEvents(rows: EventRow[], dedupToken: string, chain?: ChainStamp): Promise<number | undefined>;
  insertDeadLetters(rows: DeadLetter[], dedupToken: string, chain?: ChainStamp): Promise<number | undefined>;
  /**
   * Optional: encode (and hash) rows ahead of their insert, so the work overlaps an earlier insert
   * still running in ClickHouse. Purely a head start: insertEvents gives the same result without it.
   */
  prepareEvents?(rows: EventRow[]): void;
  /** Which of these event ids are already stored, looking only at events whose time lies in `ranges`. */
  storedEventIds(ids: string[], ranges: readonly TimeRange[]): Promise<Set<string>>;
  storedDeadLetterIds(ids: string[]): Promise<Set<string>>;
  query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}
