import pino from 'pino';
import { evenIncidentTimes } from '../../src/demo/incidents.js';
import { DEFAULT_POLICY, type Policy, scheduledLabels } from '../../src/demo/labels.js';
import { DAY, type Label } from '../../src/demo/model.js';
import { createWorld } from '../../src/demo/world.js';
import type { Alert } from '../../src/detect/alert.js';
import { Engine } from '../../src/detect/engine.js';
import type { RuleSet } from '../../src/detect/rules.js';
import { checkScheduledRules, createScheduledDetectors } from '../../src/detect/scheduled/index.js';
import type { StoredEvent } from '../../src/events/contract.js';
import { normalise } from '../../src/events/normalise.js';
import { openStore } from '../../src/index.js';
import type { EventRow } from '../../src/store/store.js';
import { benchConfig } from '../benchConfig.js';
import { log, round } from '../measure.js';
import { type ScoredAlert, scoreAlerts } from './scoreAlerts.js';

export interface QualityOptions {
  seed: number;
  tokens: number;
  days: number;
  eventsPerDay: number;
  incidents: number;
  dataDir: string;
  rules: RuleSet;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/**
 * (a) and (b): one labelled world, pre-decoded into StoredEvent rows; the stream engine with
 * every shipped rule runs over them twice (the first pass warms the JIT) for throughput, its
 * second pass's alerts are scored; the same rows stored in chDB feed the scheduled detectors
 * as of the world's end.
 */
export async function detectQuality(o: QualityOptions) {
  const start = Date.UTC(2026, 0, 5);
  // Incidents after new_source's 7-day learning period (plus a day), ending 2 h before the end.
  const make = () =>
    createWorld({
      seed: o.seed,
      start,
      days: o.days,
      tokens: o.tokens,
      eventsPerDay: o.eventsPerDay,
      incidentTimes: evenIncidentTimes(start + 8 * DAY, start + o.days * DAY - 2 * 3_600_000, o.incidents),
    });
  // The generator alone, streaming: nothing is kept.
  let began = performance.now();
  let generated = 0;
  for (const _ of make().events()) generated++;
  const generatorSeconds = (performance.now() - began) / 1000;
  const world = make();
  began = performance.now();
  const rows: StoredEvent[] = [];
  for (const e of world.events()) rows.push(normalise(e, ''));
  const generateSeconds = (performance.now() - began) / 1000;
  log(`generated ${rows.length} events in ${generateSeconds.toFixed(1)} s`);

  const runs = [runEngine(rows, o.rules), runEngine(rows, o.rules)];
  const warm = runs[1]!;
  log(`engine: ${Math.round(rows.length / warm.seconds)} events/s warm`);

  began = performance.now();
  const config = benchConfig({ dataDir: o.dataDir, database: 'detect' });
  const logger = pino({ level: 'warn' });
  const store = await openStore(config, logger);
  let scheduled: Alert[] = [];
  let storeSeconds = 0;
  let scheduledSeconds = 0;
  try {
    for (let i = 0; i < rows.length; i += 50_000) {
      const chunk = rows.slice(i, i + 50_000).map(
        (r, j): EventRow => ({
          ...r,
          ingest_source: 'bench',
          ingest_partition: 0,
          ingest_offset: i + j,
          ingested_at: Date.now(),
        }),
      );
      await store.insertEvents(chunk, `bench-detect-${o.seed}-${i}`);
    }
    storeSeconds = (performance.now() - began) / 1000;
    log(`stored in chDB in ${storeSeconds.toFixed(1)} s`);
    began = performance.now();
    scheduled = await createScheduledDetectors({ store, rules: o.rules, logger }).run(world.end);
    scheduledSeconds = (performance.now() - began) / 1000;
  } finally {
    await store.close();
  }

  const labels = dedupe([...world.labels, ...scheduledLabels(world, world.end, policyOf(o.rules))]);
  const alerts: ScoredAlert[] = [...warm.alerts.values(), ...scheduled];
  const score = scoreAlerts(alerts, labels);
  const kinds = Object.values(score.per_kind).filter((k) => k.labels > 0);
  return {
    world: {
      seed: o.seed,
      events: rows.length,
      tokens_issued: world.tokens.length,
      credentials: world.credentials.length,
      principals: world.principals.length,
      days: o.days,
      labels: labels.length,
      scenarios: world.scenarios,
      generator_events_per_s: Math.round(generated / generatorSeconds),
      generate_and_decode_events_per_s: Math.round(rows.length / generateSeconds),
    },
    quality: {
      per_kind: score.per_kind,
      min_recall: Math.min(...kinds.map((k) => k.recall ?? 0)),
      precision: score.precision,
      alerts: score.alerts,
      true_positives: score.true_positives,
      false_positives: score.false_positives,
      false_positive_examples: score.unmatched.slice(0, 8).map(describe),
      missed_examples: score.missed
        .slice(0, 8)
        .map((l) => ({ ...l, time: new Date(l.time).toISOString(), end: undefined })),
      matching:
        'alert ↔ label by kind and token (request_spike: token or principal), first_seen within [incident − 2 min, last incident event + 5 min]; ' +
        'hygiene kinds by kind and token; an alert matching no label is a false positive',
    },
    throughput: {
      rules: o.rules.rules.filter((r) => r.enabled).length,
      events: rows.length,
      cold_events_per_s: Math.round(rows.length / runs[0]!.seconds),
      warm_events_per_s: Math.round(rows.length / warm.seconds),
      warm_seconds: round(warm.seconds, 3),
      alert_emissions: warm.emissions,
      stats: warm.stats,
    },
    scheduled: {
      alerts: scheduled.length,
      store_seconds: round(storeSeconds, 1),
      run_seconds: round(scheduledSeconds, 2),
    },
  };
}

function runEngine(rows: StoredEvent[], rules: RuleSet) {
  const alerts = new Map<string, Alert>();
  let emissions = 0;
  const engine = new Engine({
    rules,
    logger: pino({ level: 'warn' }),
    onAlert: (a) => {
      emissions++;
      alerts.set(a.id, a);
    },
  });
  gc();
  const began = process.hrtime.bigint();
  for (let i = 0; i < rows.length; i++) engine.process(rows[i] as StoredEvent);
  engine.flush();
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  return { seconds, alerts, emissions, stats: engine.stats() };
}

/** The label policy from the shipped hygiene rules, so labels and detectors judge by one policy. */
function policyOf(rules: RuleSet): Policy {
  const policy = { ...DEFAULT_POLICY };
  for (const r of checkScheduledRules(rules)) {
    if (r.spec.enabled === false) continue;
    const p = r.params;
    if (r.spec.kind === 'stale_unused') policy.staleAfter = p.after as number;
    if (r.spec.kind === 'never_used') policy.neverUsedAfter = p.after as number;
    if (r.spec.kind === 'rotation_overdue') {
      policy.rotateAfter = p.max_age as number;
      policy.rotateAfterByKind = p.max_age_by_kind as Record<string, number>;
    }
    if (r.spec.kind === 'no_expiry') {
      const kinds = p.kinds as string[];
      policy.requireExpiry = p.require_expiry === true && (kinds.length === 0 ? true : kinds);
    }
    if (r.spec.kind === 'orphaned_token') policy.orphanGrace = p.grace as number;
  }
  return policy;
}

/** One label per (kind, token) for orphans: the stream scenario and the hygiene check name the same fact. */
function dedupe(labels: Label[]): Label[] {
  const seen = new Set<string>();
  return labels.filter((l) => {
    if (l.kind !== 'orphaned_token') return true;
    const key = `${l.kind}\n${l.token_id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function describe(a: ScoredAlert) {
  const full = a as ScoredAlert & Partial<Alert>;
  return {
    kind: a.kind,
    rule: full.rule,
    token_id: a.token_id,
    principal: a.principal,
    first_seen: new Date(a.first_seen).toISOString(),
    summary: full.summary,
  };
}
