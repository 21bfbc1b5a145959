import { createHash } from 'node:crypto';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export type AlertStatus = 'open' | 'confirmed' | 'dismissed' | 'revoked';

/** How the alerting stage should respond to a rule's alerts. */
export interface ResponsePolicy {
  confirm: 'auto' | 'manual';
  revoke: boolean;
}

/** What a responder needs from the evidence without opening every event. */
export interface AlertDetails {
  source_ips: string[];
  user_agents: string[];
  scopes: string[];
  statuses: number[];
  /** Detector findings: the new network, the baseline a spike broke, … */
  context: Record<string, string | number | boolean>;
}

/** The alert contract of ARCHITECTURE.md, plus the rule's tags and response policy. */
export interface Alert {
  /** sha256(rule, subject, window start): replays and other instances produce the same id. */
  id: string;
  kind: string;
  rule: string;
  severity: Severity;
  token_id: string;
  principal: string;
  tenant: string;
  /** Epoch ms of the first and last matching event. */
  first_seen: number;
  last_seen: number;
  count: number;
  /** Ids of matching events, first ones first, capped at EVIDENCE_CAP. */
  evidence: string[];
  summary: string;
  status: AlertStatus;
  tags: string[];
  response: ResponsePolicy;
  details: AlertDetails;
}

export const EVIDENCE_CAP = 20;
const DETAIL_CAP = 10;

/** Deterministic alert id: 32 hex chars of sha256 over rule, subject and window start. */
export function alertId(rule: string, subject: string, windowStart: number): string {
  return createHash('sha256').update(`${rule}\n${subject}\n${windowStart}`).digest('hex').slice(0, 32);
}

/** Fold a repeat into `into` (same id): count, time span, evidence and details, all capped. */
export function mergeAlert(into: Alert, repeat: Alert): void {
  into.count += repeat.count;
  into.first_seen = Math.min(into.first_seen, repeat.first_seen);
  into.last_seen = Math.max(into.last_seen, repeat.last_seen);
  union(into.evidence, repeat.evidence, EVIDENCE_CAP);
  const a = into.details;
  const b = repeat.details;
  union(a.source_ips, b.source_ips, DETAIL_CAP);
  union(a.user_agents, b.user_agents, DETAIL_CAP);
  union(a.scopes, b.scopes, DETAIL_CAP);
  union(a.statuses, b.statuses, DETAIL_CAP);
  // The latest finding wins (e.g. the largest spike so far) but earlier keys are kept.
  Object.assign(a.context, b.context);
}

/** Fold one more matching event into `into` without building an Alert for it (the hot repeat path). */
export function mergeOccurrence(
  into: Alert,
  ev: {
    id: string;
    time: number;
    source_ip: string;
    user_agent: string;
    request_scope: string;
    status: number;
  },
  count: number,
  context: Record<string, string | number | boolean> | undefined,
): void {
  into.count += count;
  if (ev.time < into.first_seen) into.first_seen = ev.time;
  if (ev.time > into.last_seen) into.last_seen = ev.time;
  const d = into.details;
  addOne(into.evidence, ev.id, EVIDENCE_CAP);
  if (ev.source_ip) addOne(d.source_ips, ev.source_ip, DETAIL_CAP);
  if (ev.user_agent) addOne(d.user_agents, ev.user_agent, DETAIL_CAP);
  if (ev.request_scope) addOne(d.scopes, ev.request_scope, DETAIL_CAP);
  if (ev.status) addOne(d.statuses, ev.status, DETAIL_CAP);
  if (context) Object.assign(d.context, context);
}

function addOne<T>(into: T[], item: T, cap: number): void {
  if (into.length < cap && !into.includes(item)) into.push(item);
}

function union<T>(into: T[], from: readonly T[], cap: number): void {
  for (const item of from) {
    if (into.length >= cap) return;
    if (!into.includes(item)) into.push(item);
  }
}

/** Alert details from one event (empty values are left out). */
export function detailsOf(
  ev: { source_ip: string; user_agent: string; request_scope: string; status: number },
  context: Record<string, string | number | boolean> = {},
): AlertDetails {
  return {
    source_ips: ev.source_ip ? [ev.source_ip] : [],
    user_agents: ev.user_agent ? [ev.user_agent] : [],
    scopes: ev.request_scope ? [ev.request_scope] : [],
    statuses: ev.status ? [ev.status] : [],
    context,
  };
}

export { AlertAggregator, type AlertChange, type AlertSink } from './alertAggregator.js';
