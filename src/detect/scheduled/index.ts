import type { Logger } from '../../logger.js';
import type { Store } from '../../store/store.js';
import { type TokenState, tokenStateSql } from '../../store/tokenState.js';
import { type Alert, alertId } from '../alert.js';
import type { RuleSet } from '../rules.js';
import { compileScheduled, type ScheduledRule, scheduledContext } from './compileScheduled.js';
import { neverUsed } from './neverUsed.js';
import { noExpiry } from './noExpiry.js';
import { orphanedToken } from './orphanedToken.js';
import { rotationOverdue } from './rotationOverdue.js';
import { staleUnused } from './staleUnused.js';
import { type Bind, type ScheduledDetector, type TokenView, tokenView } from './types.js';

export type { ScheduledRule } from './compileScheduled.js';
export type { ScheduledDetector } from './types.js';

/** The SQL detectors by kind: the kinds SCHEDULED_KINDS names. */
export function scheduledDetectors(): Map<string, ScheduledDetector> {
  return new Map([staleUnused, neverUsed, rotationOverdue, noExpiry, orphanedToken].map((d) => [d.kind, d]));
}

/** Check a rule set's scheduled rules (params, exceptions); throws RuleLoadError. Call at load to refuse a bad file early. */
export function checkScheduledRules(rules: RuleSet): ScheduledRule[] {
  return compileScheduled(rules.scheduled, scheduledDetectors());
}

export interface ScheduledDetectors {
  /** Alerts of every enabled scheduled rule as of `asOfMs` (event time; only events at or before it count). */
  run(asOfMs: number): Promise<Alert[]>;
}

/**
 * Hygiene detectors (stale, never used, rotation, expiry, orphans) as one SQL query per run over
 * the token state of tokenStateSql: each rule adds a boolean column, so a run scans the log once
 * however many rules there are. Alert ids are rule + token + a time that does not move between
 * runs, so running again, on a replay or on another instance re-saves the same alerts.
 */
export function createScheduledDetectors(options: {
  store: Store;
  rules: RuleSet;
  logger: Logger;
}): ScheduledDetectors {
  const { store } = options;
  const logger = options.logger.child({ module: 'scheduled' });
  const rules = checkScheduledRules(options.rules);
  const query: Record<string, unknown> = {};
  const bind: Bind = (value, type) => {
    const name = `p${Object.keys(query).length}`;
    query[name] = value;
    return `{${name}:${type}}`;
  };
  const active: Array<{ rule: ScheduledRule; column: string }> = [];
  const columns: string[] = [];
  for (const rule of rules) {
    const condition = rule.detector.condition(rule.params, bind);
    if (condition === null) continue;
    const column = `hit_${active.length}`;
    active.push({ rule, column });
    columns.push(`(${condition}) AS ${column}`);
  }
  const sql =
    active.length === 0
      ? null
      : `SELECT *, ${columns.join(', ')}
         FROM (${tokenStateSql(store.database)})
         WHERE status = 'active' AND (${active.map((a) => a.column).join(' OR ')})
         ORDER BY token_id`;

  return {
    async run(asOfMs) {
      if (sql === null) return [];
      const started = performance.now();
      const asOf = Math.floor(asOfMs);
      const rows = await store.query<TokenState & Record<string, unknown>>(sql, { ...query, as_of: asOf });
      const asOfIso = new Date(asOf).toISOString();
      // One description per token, however many rules find it: formatting dominates a large run.
      const views: Array<TokenView | undefined> = new Array(rows.length);
      const alerts: Alert[] = [];
      for (const { rule, column } of active) {
        rows.forEach((row, i) => {
          if (row[column] !== 1) return;
          views[i] ??= tokenView(row, asOf, asOfIso);
          const alert = toAlert(rule, views[i]);
          if (alert) alerts.push(alert);
        });
      }
      logger.debug(
        {
          as_of: asOfIso,
          tokens: rows.length,
          alerts: alerts.length,
          ms: Math.round(performance.now() - started),
        },
        'scheduled detectors ran',
      );
      return alerts;
    },
  };
}

function toAlert(rule: ScheduledRule, v: TokenView): Alert | null {
  const { t } = v;
  const ctx = rule.exceptionMatch || rule.summary ? scheduledContext(t, rule.params) : null;
  if (ctx && rule.exceptionMatch?.(ctx)) return null;
  const f = rule.detector.finding(v, rule.params);
  const spec = rule.spec;
  return {
    id: alertId(spec.name, t.token_id, f.anchor),
    kind: spec.kind,
    rule: spec.name,
    severity: spec.severity,
    token_id: t.token_id,
    principal: t.principal,
    tenant: t.tenant,
    first_seen: f.since,
    last_seen: v.asOf,
    count: 1,
    evidence: [t.issue_event, ...(f.evidence ?? [])].filter(
      (id, i, all) => id !== '' && all.indexOf(id) === i,
    ),
    summary: ctx && rule.summary ? rule.summary(ctx, f.context) : f.summary,
    status: 'open',
    tags: spec.tags,
    response: spec.response,
    details: {
      source_ips: t.last_source_ip ? [t.last_source_ip] : [],
      user_agents: [],
      // The scopes the token grants: what an idle or orphaned token exposes.
      scopes: t.scopes,
      statuses: [],
      context: f.context,
    },
  };
}
