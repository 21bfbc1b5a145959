import type { Logger } from 'pino';
import type { EventType } from '../events/contract.js';
import { EVENT_TYPES } from '../events/contract.js';
import type { CompiledRule } from './compileRule.js';
import type { Detector, DetectorOutput } from './detectors/types.js';
import type { RuleSet } from './rules.js';

/** An enabled rule as the engine runs it: the rule, and its detector instance if stateful. */
export interface ActiveRule {
  rule: CompiledRule;
  detector: Detector | undefined;
  /** Handed to the detector; emits alerts of this rule. */
  output: DetectorOutput;
  /** May alert before event-time order (see Engine.early): stateless, and blind to the token's use counters. */
  early: boolean;
}

/** Token fields that the uses before an event change: a rule reading them must wait for event-time order. */
const USE_COUNTERS = /\btoken\.(uses|first_used_at|last_used_at)\b/;

/**
 * True when a rule's verdict on a use cannot be changed by events that arrive after it within the
 * allowed lateness. It has no detector, and it reads only the event and token facts that events
 * before it set (issuance, revocation, principal disabling); of those, shipped conditions compare
 * `event.time` with the earliest revocation or disabling, which a later arrival only moves earlier.
 */
export function orderFree(rule: CompiledRule): boolean {
  if (rule.detector !== undefined) return false;
  if (USE_COUNTERS.test(rule.expanded) || USE_COUNTERS.test(rule.output ?? '')) return false;
  return !rule.exceptions.some((e) => e.fields.some((f) => USE_COUNTERS.test(f)));
}

/** Detector instances live here across rule reloads, keyed by rule name. */
export class ActiveRules {
  /** Enabled rules per event type (index of EVENT_TYPES). */
  byType: ActiveRule[][] = EVENT_TYPES.map(() => []);
  stateful: ActiveRule[] = [];
  private byName = new Map<string, ActiveRule>();

  constructor(
    private readonly logger: Logger,
    private readonly makeOutput: (active: ActiveRule) => DetectorOutput,
  ) {}

  get(name: string): ActiveRule | undefined {
    return this.byName.get(name);
  }

  /**
   * Swap in a new rule set. A stateful rule that keeps its name and kind keeps its detector
   * (and so its learned state) with the new parameters; state of removed rules is freed.
   */
  swap(rules: RuleSet): void {
    const next = new Map<string, ActiveRule>();
    for (const rule of rules.rules) {
      if (!rule.enabled) continue;
      const old = this.byName.get(rule.name);
      let active: ActiveRule;
      if (old && old.rule.kind === rule.kind && old.detector && rule.detector) {
        old.detector.configure(rule.detectorParams);
        active = old;
        active.rule = rule;
      } else {
        active = {
          rule,
          detector: undefined,
          output: undefined as unknown as DetectorOutput,
          early: false,
        };
        active.output = this.makeOutput(active);
        active.detector = rule.detector?.create({ params: rule.detectorParams, logger: this.logger });
      }
      active.early = orderFree(rule);
      next.set(rule.name, active);
    }
    this.byName = next;
    this.byType = EVENT_TYPES.map((type) =>
      [...next.values()].filter((a) => applies(a.rule.eventTypes, type)),
    );
    this.stateful = [...next.values()].filter((a) => a.detector !== undefined);
  }
}

function applies(types: EventType[] | null, type: EventType): boolean {
  return types === null || types.includes(type);
}

/** Index of an event type in EVENT_TYPES, -1 for anything else. */
export function typeIndex(type: string): number {
  switch (type) {
    case 'token.used':
      return 1;
    case 'token.issued':
      return 0;
    case 'token.revoked':
      return 2;
    case 'principal.disabled':
      return 3;
    default:
      return -1;
  }
}
