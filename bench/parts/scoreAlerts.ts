import type { Label } from '../../src/demo/model.js';

/** The parts of an alert that matching needs (a stored row or an engine Alert). */
export interface ScoredAlert {
  id: string;
  kind: string;
  token_id: string;
  principal: string;
  first_seen: number;
}

export interface KindScore {
  labels: number;
  detected: number;
  recall: number | null;
  alerts: number;
  false_positives: number;
}

export interface Score {
  per_kind: Record<string, KindScore>;
  alerts: number;
  true_positives: number;
  false_positives: number;
  precision: number | null;
  missed: Label[];
  unmatched: ScoredAlert[];
}

const MINUTE = 60_000;
/** Kinds judged on token facts as of a time, not on an event: matched by kind and token alone. */
const TIMELESS = new Set(['stale_unused', 'never_used', 'rotation_overdue', 'no_expiry']);

/**
 * An alert matches a label of its kind about the same token (request_spike: the same token
 * or principal) that it could have been raised by: first seen from 2 minutes before the
 * incident to 5 minutes after its last event. An orphaned token stays orphaned, so any later
 * alert matches. An alert matching no label is a false positive.
 */
export function matches(alert: ScoredAlert, label: Label): boolean {
  if (alert.kind !== label.kind) return false;
  const sameToken = label.token_id !== '' && alert.token_id === label.token_id;
  if (label.kind === 'request_spike') {
    if (!sameToken && !(label.principal !== '' && alert.principal === label.principal)) return false;
  } else if (!sameToken) return false;
  if (TIMELESS.has(label.kind)) return true;
  if (alert.first_seen < label.time - 2 * MINUTE) return false;
  return label.kind === 'orphaned_token' || alert.first_seen <= label.end + 5 * MINUTE;
}

export function scoreAlerts(alerts: ScoredAlert[], labels: Label[]): Score {
  const byKind = new Map<string, Label[]>();
  for (const l of labels) byKind.set(l.kind, [...(byKind.get(l.kind) ?? []), l]);
  const hit = new Set<Label>();
  const unmatched: ScoredAlert[] = [];
  const per: Record<string, KindScore> = {};
  const entry = (kind: string) =>
    (per[kind] ??= { labels: 0, detected: 0, recall: null, alerts: 0, false_positives: 0 });
  for (const a of alerts) {
    entry(a.kind).alerts++;
    let any = false;
    for (const l of byKind.get(a.kind) ?? []) {
      if (matches(a, l)) {
        hit.add(l);
        any = true;
      }
    }
    if (!any) {
      unmatched.push(a);
      entry(a.kind).false_positives++;
    }
  }
  for (const l of labels) {
    const e = entry(l.kind);
    e.labels++;
    if (hit.has(l)) e.detected++;
  }
  for (const e of Object.values(per)) e.recall = e.labels === 0 ? null : round(e.detected / e.labels);
  const tp = alerts.length - unmatched.length;
  return {
    per_kind: per,
    alerts: alerts.length,
    true_positives: tp,
    false_positives: unmatched.length,
    precision: alerts.length === 0 ? null : round(tp / alerts.length),
    missed: labels.filter((l) => !hit.has(l)),
    unmatched,
  };
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
