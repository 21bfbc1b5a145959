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
 * A stateful detector configured by one rule. Per-token state lives in `token.slots[slot]`
 * (compact: numbers, small arrays or an index into a pooled typed array); state keyed by
 * anything else lives in the detector and is exported by `snapshot()`.
 */
export interface Detector {
  /** An event the rule's condition selected. */
  observe(ev: StoredEvent, token: TokenRecord | undefined, out: DetectorOutput): void;
  /** New parameters after a rule reload; state is kept when it still fits them. */
  configure(params: DetectorParams): void;
  /** The watermark moved: fire what was waiting for late events. */
  advance?(watermark: number, out: DetectorOutput): void;
  /** The token was evicted: free pooled state. */
  release?(state: unknown): void;
  /** A rotated token's state for its successor, so rotation does not restart learning. */
  inherit?(state: unknown): unknown;
  exportState?(state: unknown): unknown;
  importState?(json: unknown): unknown;
  snapshot?(): unknown;
  restore?(json: unknown): void;
}

export interface DetectorDefinition {
  kind: string;
  /** What the detector looks at when a rule gives no condition. */
  defaultCondition: string;
  params: Record<string, ParamSpec>;
  create(options: { params: DetectorParams; slot: number; logger: Logger }): Detector;
}

/** The slot state of `token`, for detectors that keep per-token state. */
export function slotOf(token: TokenRecord, slot: number): unknown {
  return token.slots === null ? undefined : token.slots[slot];
}

export function setSlot(token: TokenRecord, slot: number, state: unknown): void {
  const slots = token.slots;
  if (slots !== null && slot < slots.length) {
    slots[slot] = state;
    return;
  }
  // Exact-size arrays: push() would leave ~16 spare elements on each of a million tokens.
  const grown = new Array<unknown>(Math.max(slot + 1, 4)).fill(undefined);
  if (slots !== null) for (let i = 0; i < slots.length; i++) grown[i] = slots[i];
  grown[slot] = state;
  token.slots = grown;
}
