import type { Logger } from 'pino';
import type { StoredEvent } from '../events/contract.js';
import { type ActiveRule, ActiveRules, typeIndex } from './activeRules.js';
import { type Alert, alertId, detailsOf } from './alert.js';
import { AlertAggregator, type AlertSink } from './alertAggregator.js';
import type { CelContext } from './celEnv.js';
import type { DetectorOutput, Finding } from './detectors/types.js';
import { type EngineSnapshot, exportSnapshot, importSnapshot } from './engineSnapshot.js';
import { EventView, PrincipalView } from './eventView.js';
import { EXACT, MAYBE, NO } from './prefilter.js';
import type { RuleSet } from './rules.js';
import { type TokenFacts, TokenRecord } from './tokenRecord.js';
import { TokenTable } from './tokenTable.js';

export interface EngineOptions {
  rules: RuleSet;
  logger: Logger;
  /** Every alert, first when opened, then when repeats merged into it are final. */
  onAlert: AlertSink;
  /** How late (event time) an event may arrive before timers stop waiting for it. Default 10 s. */
  allowedLateness?: number;
  /** Tokens tracked in memory; the least recently used beyond it are evicted. Default 1,000,000. */
  maxTokens?: number;
  maxOpenAlerts?: number;
  /** Facts of a token not in memory (evicted, or issued before history), e.g. from the store. */
  lookupToken?: (id: string) => TokenFacts | undefined;
  /**
   * Early alerts (see `early()`): a stateless match on a use, before event-time order. Unset:
   * `early()` does nothing.
   */
  onEarlyAlert?: (alert: Alert, windowStart: number) => void;
  /** An early alert that event-time order did not confirm (no alert of its id in the end). */
  onWithdraw?: (alert: Alert) => void;
  /** Test mode: evaluate CEL even where the prefilter said no, and throw if they disagree. */
  verifyPrefilters?: boolean;
}

export interface EngineStats {
  events: number;
  early: number;
  withdrawn: number;
  late: number;
  alerts: number;
  suppressed: number;
  ruleErrors: number;
  tokens: number;
  evicted: number;
  watermark: number;
}

const TICK = 1_000;
/** Early alerts waiting for event-time order to confirm them; beyond it the oldest are let go unchecked. */
const MAX_EARLY = 100_000;

/**
 * Runs every enabled rule over events in event time. Rules first pass a JS prefilter, then
 * their CEL condition; stateful kinds hand matching events to their detector. Nothing here
 * reads the wall clock: the watermark (latest event time minus allowed lateness) drives
 * timers, so a replay yields the alerts live ingestion produced.
 */
export class Engine {
  private readonly log: Logger;
  private readonly tokens: TokenTable;
  private readonly active: ActiveRules;
  private readonly aggregator: AlertAggregator;
  private readonly disabled = new Map<string, number>();
  private readonly view = new EventView();
  private readonly principal = new PrincipalView((p) => this.disabled.get(p) ?? Number.POSITIVE_INFINITY);
  private readonly unknown = new TokenRecord('');
  private readonly ctx: CelContext;
  private readonly lateness: number;
  private readonly failing = new Set<string>();
  private readonly verifying: boolean;
  private silent = false;
  private maxTime = Number.NEGATIVE_INFINITY;
  private firstTime = Number.POSITIVE_INFINITY;
  private watermark = Number.NEGATIVE_INFINITY;
  private nextTick = Number.NEGATIVE_INFINITY;
  private readonly counts = {
    events: 0,
    early: 0,
    withdrawn: 0,
    late: 0,
    alerts: 0,
    suppressed: 0,
    ruleErrors: 0,
  };
  /** Issuances seen by `early` and not processed yet, by token id: uses right after them may alert early. */
  private readonly earlyIssued = new Map<string, StoredEvent>();
  /**
   * Early alerts by event id, then rule, until the event reaches `process` in event-time order.
   * By event first: every rule of every processed event asks, and most events have none.
   */
  private readonly earlyAlerts = new Map<string, Map<string, Alert>>();

  constructor(private readonly options: EngineOptions) {
    this.log = options.logger.child({ module: 'detect' });
    this.lateness = options.allowedLateness ?? 10_000;
    this.verifying = options.verifyPrefilters === true;
    this.tokens = new TokenTable({
      maxTokens: options.maxTokens ?? 1_000_000,
      onEvict: (t) => this.release(t),
    });
    this.active = new ActiveRules(this.log, (a) => this.outputFor(a));
    this.aggregator = new AlertAggregator({
      logger: this.log,
      maxOpen: options.maxOpenAlerts,
      sink: (alert, change, windowStart) => {
        if (change !== 'updated') this.counts.alerts++;
        options.onAlert(alert, change, windowStart);
      },
    });
    this.ctx = { event: this.view, token: this.unknown, principal: this.principal, params: {} };
    this.active.swap(options.rules);
  }

  /** A restarted engine that remembers known sources, baselines and open alert windows. */
  static restore(snapshot: EngineSnapshot, options: EngineOptions): Engine {
    const engine = new Engine(options);
    const times = importSnapshot(snapshot, {
      tokens: engine.tokens,
      active: engine.active,
      aggregator: engine.aggregator,
      disabled: engine.disabled,
    });
    engine.maxTime = times.maxTime;
    engine.firstTime = times.firstTime;
    engine.watermark = times.watermark;
    engine.nextTick = times.watermark + TICK;
    return engine;
  }

  /** Detector state and open alert windows, JSON-able (Infinity never appears). */
  snapshot(): EngineSnapshot {
    return exportSnapshot(
      { tokens: this.tokens, active: this.active, aggregator: this.aggregator, disabled: this.disabled },
      {
        maxTime: this.maxTime,
        firstTime: this.firstTime,
        watermark: this.watermark,
      },
    );
  }

  /** Swap rules without losing state (see ActiveRules.swap). */
  setRules(rules: RuleSet): void {
    this.active.swap(rules);
    this.failing.clear();
    this.log.info({ rules: rules.rules.length }, 'rules swapped');
  }

  /** Learn from stored history (rebuild after a restart or rebalance) without alerting. */
  learn(ev: StoredEvent): void {
    this.silent = true;
    try {
      this.process(ev);
    } finally {
      this.silent = false;
    }
  }

  /** Tell the engine about a token issued before the history it will see. */
  seedToken(facts: TokenFacts): void {
    (this.tokens.get(facts.id) ?? this.tokens.create(facts.id)).applyFacts(facts, this.tokens);
  }

  process(ev: StoredEvent): void {
    this.counts.events++;
    if (ev.time > this.maxTime) {
      if (this.maxTime === Number.NEGATIVE_INFINITY) this.firstTime = ev.time;
      this.maxTime = ev.time;
      if (ev.time - this.lateness >= this.nextTick) this.advance(ev.time - this.lateness);
    } else if (ev.time < this.watermark) {
      this.counts.late++;
    }
    const type = typeIndex(ev.type);
    let token: TokenRecord | undefined;
    if (type === 1) token = this.tokens.get(ev.token_id) ?? this.hydrate(ev.token_id);
    else if (type === 0) token = this.issue(ev);
    else if (type === 2) token = this.revoke(ev);
    else if (type === 3)
      this.disabled.set(ev.principal, Math.min(ev.time, this.disabled.get(ev.principal) ?? ev.time));
    if (type < 0) return;
    this.point(ev, token);
    const rules = this.active.byType[type] as ActiveRule[];
    for (let i = 0; i < rules.length; i++) this.run(rules[i] as ActiveRule, ev, token);
    if (type === 1 && token !== undefined) token.recordUse(ev.time);
  }

  /**
   * A use just stored, before the reorder buffer releases it: every order-free rule
   * (ActiveRules.orderFree) runs on it now against the token as event-time order has built it so
   * far, and a match goes to `onEarlyAlert` at once. Conditions of those rules only get truer as
   * earlier events arrive (a revocation or disabling found later is earlier still), so when the
   * event reaches `process` the same rule matches again and the alert, with the same id, takes its
   * final counts there. If it does not, the early alert is withdrawn (`onWithdraw`).
   */
  early(ev: StoredEvent): void {
    const sink = this.options.onEarlyAlert;
    // Only ahead of everything processed: the token state then holds nothing later than `ev`.
    if (sink === undefined || this.silent || ev.time <= this.maxTime) return;
    const type = typeIndex(ev.type);
    if (type === 0) {
      if (this.earlyIssued.size >= MAX_EARLY)
        this.earlyIssued.delete(this.earlyIssued.keys().next().value as string);
      this.earlyIssued.set(ev.token_id, ev);
    }
    if (type !== 1) return;
    const rules = this.active.byType[1] as ActiveRule[];
    const token = this.tokens.get(ev.token_id) ?? this.issuedEarly(ev);
    for (let i = 0; i < rules.length; i++) {
      const active = rules[i] as ActiveRule;
      if (!active.early) continue;
      this.point(ev, token);
      if (active.rule.prefilter.test(ev, token ?? this.unknown, this.principal) === NO) continue;
      if (!this.cel(active)) continue;
      const built = this.build(active, ev, token, undefined);
      if (built === undefined || this.aggregator.has(built.alert.id)) continue;
      let byRule = this.earlyAlerts.get(ev.id);
      if (byRule === undefined) {
        if (this.earlyAlerts.size >= MAX_EARLY)
          this.earlyAlerts.delete(this.earlyAlerts.keys().next().value as string);
        byRule = new Map();
        this.earlyAlerts.set(ev.id, byRule);
      }
      byRule.set(active.rule.name, built.alert);
      this.counts.early++;
      sink(structuredClone(built.alert), built.windowStart);
    }
  }

  /**
   * A token whose issuance is still in the reorder buffer, as `issue` will make it: the use comes
   * after the issuance, so in event-time order the rules see these facts too.
   */
  private issuedEarly(use: StoredEvent): TokenRecord | undefined {
    const ev = this.earlyIssued.get(use.token_id);
    if (ev === undefined || ev.time >= use.time) return undefined;
    const token = new TokenRecord(ev.token_id);
    token.applyFacts(this.factsOf(ev), this.tokens);
    return token;
  }

  /** End of stream: stop waiting for late events, emit every pending alert update. */
  flush(): void {
    // Timers fire as if time ran out, but the watermark stays: the engine may go on afterwards.
    for (const active of this.active.stateful)
      active.detector?.advance?.(Number.POSITIVE_INFINITY, active.output);
    this.aggregator.flush();
  }

  stats(): EngineStats {
    return {
      ...this.counts,
      tokens: this.tokens.size,
      evicted: this.tokens.evicted,
      watermark: this.watermark,
    };
  }

  private run(active: ActiveRule, ev: StoredEvent, token: TokenRecord | undefined): void {
    const rule = active.rule;
    const verdict = rule.prefilter.test(ev, token ?? this.unknown, this.principal);
    if (this.verifying) this.verify(active, verdict);
    if (active.detector !== undefined) {
      if (verdict === NO || (verdict === MAYBE && !this.cel(active))) return;
      this.point(ev, token);
      active.detector.observe(ev, token, active.output);
      return;
    }
    const emitted = verdict !== NO && this.cel(active) && this.emit(active, ev, token, undefined);
    if (this.earlyAlerts.size > 0) this.confirmEarly(active, ev, emitted);
  }

  /** `ev` reached event-time order: withdraw its early alert of `active` unless it alerted again. */
  private confirmEarly(active: ActiveRule, ev: StoredEvent, emitted: boolean): void {
    const byRule = this.earlyAlerts.get(ev.id);
    const alert = byRule?.get(active.rule.name);
    if (byRule === undefined || alert === undefined) return;
    byRule.delete(active.rule.name);
    if (byRule.size === 0) this.earlyAlerts.delete(ev.id);
    if (emitted || this.aggregator.has(alert.id)) return;
    this.counts.withdrawn++;
    this.log.warn({ rule: active.rule.name, alert: alert.id, event: ev.id }, 'early alert withdrawn');
    this.options.onWithdraw?.(alert);
  }

  private cel(active: ActiveRule): boolean {
    this.ctx.params = active.rule.values;
    try {
      return active.rule.evaluate(this.ctx);
    } catch (error) {
      this.counts.ruleErrors++;
      // One log line per rule until the next reload: a broken condition must not flood logs.
      if (!this.failing.has(active.rule.name)) {
        this.failing.add(active.rule.name);
        this.log.warn(
          { rule: active.rule.name, err: error },
          'rule condition failed on an event; counted as no match',
        );
      }
      return false;
    }
  }

  private verify(active: ActiveRule, verdict: number): void {
    const truth = this.cel(active);
    if ((verdict === NO && truth) || (verdict === EXACT && !truth)) {
      throw new Error(
        `prefilter of rule "${active.rule.name}" said ${verdict === NO ? 'no' : 'yes'}, CEL said ${truth}`,
      );
    }
  }

  /** Point the CEL context at `ev` (detectors may emit for an earlier event). */
  private point(ev: StoredEvent, token: TokenRecord | undefined): void {
    this.view.ev = ev;
    this.ctx.token = token ?? this.unknown;
    this.principal.name = token?.principal || ev.principal;
  }

  /** An alert of `active` for `ev`; false when silent or an exception suppressed it. */
  private emit(
    active: ActiveRule,
    ev: StoredEvent,
    token: TokenRecord | undefined,
    finding: Finding | undefined,
  ): boolean {
    if (this.silent) return false;
    const rule = active.rule;
    this.point(ev, token);
    this.ctx.params = rule.values;
    if (rule.exceptionMatch?.(this.ctx)) {
      this.counts.suppressed++;
      return false;
    }
    const windowStart = Math.floor(ev.time / rule.dedupWindow) * rule.dedupWindow;
    const id = alertId(rule.name, finding?.subject ?? ev.token_id, windowStart);
    // A noisy rule repeats within its window: merge the event without building an alert.
    if (this.aggregator.repeat(id, ev, finding?.count ?? 1, finding?.context)) return true;
    const built = this.build(active, ev, token, finding, windowStart, id);
    if (built !== undefined) this.aggregator.add(built.alert, windowStart, rule.dedupWindow);
    return true;
  }

  /** The alert `ev` opens for `active`; undefined when an exception suppresses it. */
  private build(
    active: ActiveRule,
    ev: StoredEvent,
    token: TokenRecord | undefined,
    finding: Finding | undefined,
    knownWindow?: number,
    knownId?: string,
  ): { alert: Alert; windowStart: number } | undefined {
    const rule = active.rule;
    this.point(ev, token);
    this.ctx.params = rule.values;
    if (knownId === undefined && rule.exceptionMatch?.(this.ctx)) return undefined;
    const windowStart = knownWindow ?? Math.floor(ev.time / rule.dedupWindow) * rule.dedupWindow;
    const id = knownId ?? alertId(rule.name, finding?.subject ?? ev.token_id, windowStart);
    const context = finding?.context ?? {};
    const alert: Alert = {
      id,
      kind: rule.kind,
      rule: rule.name,
      severity: rule.severity,
      token_id: ev.token_id,
      principal: token?.principal || ev.principal,
      tenant: ev.tenant || token?.tenant || '',
      first_seen: ev.time,
      last_seen: ev.time,
      count: finding?.count ?? 1,
      evidence: [ev.id],
      summary: rule.summary?.(this.ctx, context) ?? finding?.summary ?? `${rule.name}: token ${ev.token_id}`,
      status: 'open',
      tags: rule.tags,
      response: rule.response,
      details: detailsOf(ev, { ...context }),
    };
    return { alert, windowStart };
  }

  private advance(watermark: number): void {
    this.watermark = Math.max(this.watermark, watermark);
    // Ticks on whole seconds of event time, not a second after the last one: timers then fire at
    // the same events whichever event the engine started from (a restart restores from mid-log).
    this.nextTick = (Math.floor(watermark / TICK) + 1) * TICK;
    for (const active of this.active.stateful) active.detector?.advance?.(watermark, active.output);
    this.aggregator.advance(watermark);
  }

  private outputFor(active: ActiveRule): DetectorOutput {
    const engine = this;
    return {
      get silent() {
        return engine.silent;
      },
      get firstEventTime() {
        return engine.firstTime;
      },
      emit: (ev, token, finding) => this.emit(active, ev, token, finding),
      lookup: (id) => this.tokens.get(id) ?? this.hydrate(id),
      markPreexisting: (id) => {
        (this.tokens.get(id) ?? this.tokens.create(id)).preexisting = true;
      },
    };
  }

  private hydrate(id: string): TokenRecord | undefined {
    const facts = this.options.lookupToken?.(id);
    if (facts === undefined) return undefined;
    const token = this.tokens.create(id);
    token.applyFacts(facts, this.tokens);
    return token;
  }

  private issue(ev: StoredEvent): TokenRecord {
    if (this.earlyIssued.get(ev.token_id) === ev) this.earlyIssued.delete(ev.token_id);
    const token = this.tokens.get(ev.token_id) ?? this.tokens.create(ev.token_id);
    token.applyFacts(this.factsOf(ev), this.tokens);
    const previous = ev.replaces === '' ? undefined : this.tokens.get(ev.replaces);
    if (previous !== undefined && previous !== token)
      for (const active of this.active.stateful) active.detector?.inherit?.(previous.n, token.n);
    return token;
  }

  private factsOf(ev: StoredEvent): TokenFacts {
    return {
      id: ev.token_id,
      kind: ev.token_kind,
      principal: ev.principal,
      tenant: ev.tenant,
      scopes: ev.scopes,
      allowed_cidrs: ev.allowed_cidrs,
      issued_at: ev.time,
      expires_at: ev.expires_at,
      revoked_at: null,
      replaces: ev.replaces,
    };
  }

  private revoke(ev: StoredEvent): TokenRecord {
    const token = this.tokens.get(ev.token_id) ?? this.tokens.create(ev.token_id);
    token.revoked_at = Math.min(token.revoked_at, ev.time);
    token.principal ||= ev.principal;
    token.tenant ||= ev.tenant;
    return token;
  }

  private release(token: TokenRecord): void {
    for (const active of this.active.stateful) active.detector?.release?.(token.n);
  }
}

/** Engine factory in the project's options-object style. */
export function createEngine(options: EngineOptions): Engine {
  return new Engine(options);
}
