import type { TokenEvent } from '../contract.js';

/** What one audit record became. Adapters return this instead of throwing on bad input. */
export type AdapterResult =
  /** Usually one event; a record can hold several (a service account that mints a token uses its own). */
  | { kind: 'events'; events: TokenEvent[] }
  /** A valid record that is not about a token (a human user's request): counted in summaries, not a dead letter. */
  | { kind: 'ignored'; reason: string }
  /** A record that should be mappable but cannot be (missing fields, wrong shape): becomes a dead letter. */
  | { kind: 'invalid'; reason: string };

export interface AdapterContext {
  /** Keyed HMAC fingerprint for anything that could be a secret; adapters never emit a raw secret. */
  fingerprint(secret: string): string;
}

export type AdapterName = 'k8s-audit' | 'vault' | 'cloudtrail' | 'github';

/** Maps records of one foreign audit-log format to contract-v1 events. Pure: no I/O, no clock. */
export interface Adapter {
  name: AdapterName;
  map(record: unknown, ctx: AdapterContext): AdapterResult;
  /**
   * The records inside a batch envelope (CloudTrail `{"Records":[...]}`, Kubernetes `EventList`),
   * or undefined when `input` is a single record. Ingest that wants one dead letter per bad record
   * maps these one by one; `map` accepts the envelope too, as all-or-nothing.
   */
  unwrap?(input: unknown): unknown[] | undefined;
}
