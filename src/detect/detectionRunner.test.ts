import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../events/contract.js';
import type { AlertStore } from '../store/alertStore.js';
import type { Alert } from './alert.js';
import { AlertSaver } from './alertSaver.js';
import { DetectionRunner, type ScheduledDetectors } from './detectionRunner.js';
import { issued, used } from './eventBuilders.js';
import { expandFixtureEvents } from './fixtureEvent.js';
import { replayEvents } from './replayEvents.js';
import { readRuleDir } from './ruleFiles.js';
import { compileRuleSet, type RuleSet } from './rules.js';

const logger = pino({ level: 'silent' });
const start = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** An in-memory alert store that keeps the highest count per id, as ReplacingMergeTree(version = count) does. */
function fakeAlertStore(initial: Alert[] = []) {
  const rows = new Map(initial.map((a) => [a.id, a]));
  const saves: number[] = [];
  const store: AlertStore = {
    async save(alerts) {
      saves.push(alerts.length);
      for (const a of alerts)
        if ((rows.get(a.id)?.count ?? -1) <= a.count) rows.set(a.id, structuredClone(a));
    },
    async list() {
      return [...rows.values()].sort((a, b) => a.first_seen - b.first_seen || a.id.localeCompare(b.id));
    },
    async get(ids) {
      return ids.flatMap((id) => (rows.has(id) ? [structuredClone(rows.get(id) as Alert)] : []));
    },
  };
  return { store, saves, rows };
}

async function shippedRules(): Promise<RuleSet> {
  return compileRuleSet(await readRuleDir(fileURLToPath(new URL('../../rules', import.meta.url))));
}

function runner(
  rules: RuleSet,
  alerts: AlertStore,
  extra: Partial<ConstructorParameters<typeof DetectionRunner>[0]> = {},
) {
  return new DetectionRunner({
    rules,
    logger,
    saver: new AlertSaver({ alerts, logger }),
    allowedLatenessMs: 60_000,
    ...extra,
  });
}

const events = (): StoredEvent[] =>
  expandFixtureEvents(
    [
      issued('t1', { scopes: ['projects:read'] }),
      used('10s', 't1', { scope: 'projects:write' }, { repeat: { count: 6, every: '5s' } }),
      used('20s', 'ghost', {}, { repeat: { count: 4, every: '7s' } }),
      issued('t2', { allowed_cidrs: ['10.0.0.0/8'] }, '15s'),
      used('30s', 't2', { source_ip: '192.0.2.1' }),
      used('2h', 't1', { scope: 'projects:read' }),
    ],
    start,
  );

const essentials = (alerts: Alert[]) =>
  alerts.map((a) => ({
    id: a.id,
    kind: a.kind,
    count: a.count,
    first_seen: a.first_seen,
    last_seen: a.last_seen,
    evidence: a.evidence,
  }));

describe('DetectionRunner', () => {
  it('gives the alerts of a sorted replay however the stored batches interleave', async () => {
    const rules = await shippedRules();
    const expected = replayEvents(events(), { rules, logger });
    expect(expected.map((a) => a.kind).sort()).toEqual([
      'out_of_scope',
      'source_outside_allowlist',
      'unknown_token',
    ]);
    for (const chunk of [1, 3, 100]) {
      const { store } = fakeAlertStore();
      const r = runner(rules, store);
      // Neighbours swapped (seconds apart, well within the lateness), delivered in chunks.
      const all = events();
      const shuffled = all.map(
        (_, i) => all[i % 2 === 0 ? Math.min(i + 1, all.length - 1) : i - 1] as StoredEvent,
      );
      for (let i = 0; i < shuffled.length; i += chunk) r.onStored(shuffled.slice(i, i + chunk));
      await r.finish();
      const byId = (a: Alert, b: Alert) => a.id.localeCompare(b.id);
      expect(essentials((await store.list()).sort(byId))).toEqual(essentials([...expected].sort(byId)));
    }
  });

  it('feeds the engine only what the watermark passed, and everything at finish', async () => {
    const rules = await shippedRules();
    const { store } = fakeAlertStore();
    const r = runner(rules, store);
    const all = events();
    r.onStored(all.slice(0, 3)); // t1 issued, and its first write at 10s: within the lateness
    expect(r.engine.stats().events).toBe(0);
    r.onStored(all.slice(3));
    expect(r.engine.stats().events).toBe(all.length - 1); // the 2h use is held
    await r.finish();
    expect(r.engine.stats().events).toBe(all.length);
  });

  it('saves the alerts of one stored batch in one insert', async () => {
    const rules = await shippedRules();
    const { store, saves } = fakeAlertStore();
    const r = runner(rules, store, { allowedLatenessMs: 0 });
    r.onStored(events());
    await r.finish();
    expect(saves[0]).toBeGreaterThan(1);
  });

  it('runs scheduled detectors at every whole hour the watermark passes, and at the last event', async () => {
    const rules = await shippedRules();
    const hours = (chunk: number) => {
      const runs: number[] = [];
      const scheduled = (): ScheduledDetectors => ({
        async run(asOf) {
          runs.push(asOf);
          return [];
        },
      });
      const r = runner(rules, fakeAlertStore().store, { scheduled });
      const all = expandFixtureEvents(
        [issued('t1'), used('10m', 't1', {}, { repeat: { count: 40, every: '7m' } })],
        start + 30 * 60_000,
      );
      for (let i = 0; i < all.length; i += chunk) r.onStored(all.slice(i, i + chunk));
      return r.finish().then(() => ({ runs, last: all[all.length - 1]!.time }));
    };
    const one = await hours(1);
    expect(one.runs.slice(0, 4)).toEqual([
      start + HOUR,
      start + 2 * HOUR,
      start + 3 * HOUR,
      start + 4 * HOUR,
    ]);
    expect(one.runs.at(-1)).toBe(one.last);
    expect((await hours(13)).runs).toEqual(one.runs);
    expect((await hours(1000)).runs).toEqual(one.runs);
  });

  it('learns history without alerting, then alerts on what is new', async () => {
    const rules = await shippedRules();
    const { store } = fakeAlertStore();
    const r = runner(rules, store);
    for (const ev of events()) r.learn(ev);
    r.onStored(expandFixtureEvents([used('3h', 't1', { scope: 'projects:delete' })], start));
    await r.finish();
    expect((await store.list()).map((a) => [a.kind, a.evidence])).toEqual([['out_of_scope', ['e1']]]);
  });

  it('adds to an alert stored before a restart instead of starting its count again', async () => {
    const rules = await shippedRules();
    const first = fakeAlertStore();
    const r1 = runner(rules, first.store);
    r1.onStored(events());
    await r1.finish();
    const before = (await first.store.list()).find((a) => a.kind === 'out_of_scope') as Alert;
    expect(before.count).toBe(6);
    const second = fakeAlertStore([{ ...before, status: 'confirmed' }]);
    const r2 = runner(rules, second.store);
    // The restarted engine knows t1 (learned) and sees two more writes in the same alert window.
    for (const ev of events()) r2.learn(ev);
    r2.onStored(
      expandFixtureEvents(
        [used('50m', 't1', { scope: 'projects:write' }, { repeat: { count: 2, every: '1s' } })],
        start,
      ),
    );
    await r2.finish();
    const after = second.rows.get(before.id) as Alert;
    expect(after.count).toBe(8);
    expect(after.status).toBe('confirmed');
    expect(after.first_seen).toBe(before.first_seen);
  });
});
