import type { Logger } from 'pino';
import type { StoredEvent } from '../../events/contract.js';
import type { TokenRecord } from '../tokenRecord.js';

/** How a built-in detector's parameter is written and checked at load. */
export interface ParamSpec {
  type: 'duration' | 'number' | 'enum';
  default: number | string;
  /** Inclusive bounds for numbers and durations (ms). */
  min?: number;
  max?: number;
  values?: readonly string[];
  desc: string;
}

/** Validated parameters: durations in ms. */
export type DetectorParams = Record<string, number | string>;

/** A finding a detector reports; the engine turns it into an alert of the rule. */
export interface Finding {
  /** Alert subject when not the token (e.g. `principal:sa-ci`); part of the alert id. */
  subject?: string;
  summary: string;
  context: Record<string, string | number | boolean>;
  /** Occurrences this finding stands for (default 1), when a detector held events back. */
  count?: number;
}

/** What the engine lends a detector while it observes or advances. */
export interface DetectorOutput {
  /** True while the engine learns from history: observe, but findings are not alerts. */
  readonly silent: boolean;
  emit(ev: StoredEvent, token: TokenRecord | undefined, finding: Finding): void;
  /** The token as the engine knows it (table or the store's lookup hook). */
  lookup(tokenId: string): TokenRecord | undefined;
  /** Record a token as pre-existing: issued before the history Choir holds. */
  markPreexisting(tokenId: string, time: number): void;
  /** Time of the first event the engine ever processed (for bootstrap periods). */
  readonly firstEventTime: number;
}

/**
 * A stateful detector configured by one rule. Per-token state lives in the detector, indexed by
 * the token's number (`token.n`, dense and reused after eviction: typed-array columns, not one
 * object per token); state keyed by anything else is exported by `snapshot()`.
 */
export interface Detector {
  /** An event the rule's condition selected. */
  observe(ev: StoredEvent, token: TokenRecord | undefined, out: DetectorOutput): void;
  /** New parameters after a rule reload; state is kept when it still fits them. */
  configure(params: DetectorParams): void;
  /** The watermark moved: fire what was waiting for late events. */
  advance?(watermark: number, out: DetectorOutput): void;
  /** Token `n` was evicted (its number will be reused): forget its state. */
  release?(n: number): void;
  /** Token `to` rotates token `from`: it starts with a copy of its state, so learning goes on. */
  inherit?(from: number, to: number): void;
  /** Token `n`'s state as JSON, undefined when it has none. */
  exportState?(n: number): unknown;
  /** Token `n`'s state from `exportState` JSON (state of unknown shape is dropped, not trusted). */
  importState?(n: number, json: unknown): void;
  snapshot?(): unknown;
  restore?(json: unknown): void;
}

export interface DetectorDefinition {
  kind: string;
  /** What the detector looks at when a rule gives no condition. */
  defaultCondition: string;
  params: Record<string, ParamSpec>;
  create(options: { params: DetectorParams; logger: Logger }): Detector;
}
