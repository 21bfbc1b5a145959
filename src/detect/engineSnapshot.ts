import type { ActiveRules } from './activeRules.js';
import type { AlertAggregator } from './alertAggregator.js';
import { finiteOrNull, nullToNever, type TokenFacts } from './tokenRecord.js';
import type { TokenTable } from './tokenTable.js';

/** One tracked token in a snapshot; `state` is keyed by rule name so it survives rule edits. */
export interface TokenSnapshot {
  facts: TokenFacts;
  known: boolean;
  preexisting: boolean;
  first_used_at: number | null;
  last_used_at: number | null;
  uses: number;
  state?: Record<string, unknown>;
}

/** Engine state as plain JSON; the store persists it, `Engine.restore` reads it back. */
export interface EngineSnapshot {
  version: 1;
  max_time: number | null;
  first_time: number | null;
  watermark: number | null;
  tokens: TokenSnapshot[];
  principals_disabled: Array<[string, number]>;
  /** Detector state not keyed by token (per-principal baselines, pending verdicts), by rule name. */
  detectors: Record<string, { kind: string; state: unknown }>;
  alerts: ReturnType<AlertAggregator['snapshot']>;
}

export interface EngineParts {
  tokens: TokenTable;
  active: ActiveRules;
  aggregator: AlertAggregator;
  disabled: Map<string, number>;
}

export interface EngineTimes {
  maxTime: number;
  firstTime: number;
  watermark: number;
}

export function exportSnapshot(parts: EngineParts, times: EngineTimes): EngineSnapshot {
  const tokens: TokenSnapshot[] = [];
  for (const token of parts.tokens.values()) {
    const entry: TokenSnapshot = {
      facts: token.facts(),
      known: token.known,
      preexisting: token.preexisting,
      first_used_at: finiteOrNull(token.first_used_at),
      last_used_at: finiteOrNull(token.last_used_at),
      uses: token.uses,
    };
    for (const active of parts.active.stateful) {
      const state = active.detector?.exportState?.(token.n);
      if (state === undefined) continue;
      entry.state ??= {};
      entry.state[active.rule.name] = state;
    }
    tokens.push(entry);
  }
  const detectors: EngineSnapshot['detectors'] = {};
  for (const active of parts.active.stateful) {
    const state = active.detector?.snapshot?.();
    if (state !== undefined) detectors[active.rule.name] = { kind: active.rule.kind, state };
  }
  return {
    version: 1,
    max_time: finiteOrNull(times.maxTime),
    first_time: finiteOrNull(times.firstTime),
    watermark: finiteOrNull(times.watermark),
    tokens,
    principals_disabled: [...parts.disabled],
    detectors,
    alerts: parts.aggregator.snapshot(),
  };
}

/** Load a snapshot into a fresh engine's parts; state of rules no longer present is skipped. */
export function importSnapshot(snapshot: EngineSnapshot, parts: EngineParts): EngineTimes {
  if (snapshot.version !== 1)
    throw new Error(`detector snapshot version ${snapshot.version} is not supported (expected 1)`);
  for (const entry of snapshot.tokens) {
    const token = parts.tokens.create(entry.facts.id);
    token.applyFacts(entry.facts, parts.tokens);
    token.known = entry.known;
    token.preexisting = entry.preexisting;
    token.first_used_at = nullToNever(entry.first_used_at);
    token.last_used_at = nullToNever(entry.last_used_at);
    token.uses = entry.uses;
    for (const [rule, json] of Object.entries(entry.state ?? {})) {
      parts.active.get(rule)?.detector?.importState?.(token.n, json);
    }
  }
  for (const [principal, at] of snapshot.principals_disabled) parts.disabled.set(principal, at);
  for (const [rule, { kind, state }] of Object.entries(snapshot.detectors)) {
    const active = parts.active.get(rule);
    if (active?.rule.kind === kind) active.detector?.restore?.(state);
  }
  parts.aggregator.restore(snapshot.alerts);
  return {
    maxTime: snapshot.max_time ?? Number.NEGATIVE_INFINITY,
    firstTime: nullToNever(snapshot.first_time),
    watermark: snapshot.watermark ?? Number.NEGATIVE_INFINITY,
  };
}
