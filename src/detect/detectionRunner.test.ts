import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../events/contract.js';
import type { AlertStore } from '../store/alertStore.js';
import type { Alert } from './alert.js';
import { AlertSaver } from './alertSaver.js';
import { DetectionRunner, type ScheduledDetectors } from './detectionRunner.js';
import { issued, revoked, used } from './eventBuilders.js';
import { fakeAlertStore } from './fakeAlertStore.js';
import { expandFixtureEvents } from './fixtureEvent.js';
import { replayEvents } from './replayEvents.js';
import { readRuleDir } from './ruleFiles.js';
import { compileRuleSet, type RuleSet } from './rules.js';

const logger = pino({ level: 'silent' });
const start = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

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
    await r.settled();
    expect(r.engine.stats().events).toBe(0);
    r.onStored(all.slice(3));
    await r.settled();
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
      const r = runner(rules, fakeAlertStore().store, { scheduled, scheduleEveryMs: HOUR });
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

  it('runs scheduled detectors once per step that held events, however far event time jumps', async () => {
    const rules = await shippedRules();
    const runs: number[] = [];
    const scheduled = (): ScheduledDetectors => ({
      async run(asOf) {
        runs.push(asOf);
        return [];
      },
    });
    const r = runner(rules, fakeAlertStore().store, { scheduled });
    // A log with a 60-day hole, as an old export often has: days 0, 1, then 61.
    const all = expandFixtureEvents(
      [issued('t1'), used('1d', 't1'), used('1d1h', 't1'), used('61d', 't1'), used('61d2h', 't1')],
      start + HOUR,
    );
    for (const ev of all) r.onStored([ev]);
    await r.finish();
    const DAY = 24 * HOUR;
    // The ends of days 0 and 1, then the last event: not the 60 empty days in between.
    expect(runs).toEqual([start + DAY, start + 2 * DAY, all.at(-1)?.time]);
  });

  it('saves an order-free match as soon as its event is stored, and counts it once', async () => {
    const rules = await shippedRules();
    const { store, rows } = fakeAlertStore();
    const saver = new AlertSaver({ alerts: store, logger });
    const r = runner(rules, store, { saver });
    const all = expandFixtureEvents(
      [issued('t1'), revoked('1m', 't1'), issued('t2', {}, '2m30s'), used('5m', 't1'), used('5m10s', 't1')],
      start,
    );
    r.onStored(all.slice(0, 3)); // the watermark (1m30s) releases the revocation
    r.onStored(all.slice(3));
    await r.settled();
    // Both uses are still held by the reorder buffer (60 s), yet the alert is stored.
    expect(r.engine.stats().events).toBe(3);
    const early = [...rows.values()].filter((a) => a.kind === 'use_after_revoke');
    expect(early.map((a) => a.count)).toEqual([1]);
    await r.finish();
    const expected = replayEvents(all, { rules, logger }).filter((a) => a.kind === 'use_after_revoke');
    expect(essentials([...rows.values()].filter((a) => a.kind === 'use_after_revoke'))).toEqual(
      essentials(expected),
    );
    expect(r.engine.stats()).toMatchObject({ early: 2, withdrawn: 0 });
  });

  it('alerts early on a use right after an issuance the reorder buffer still holds', async () => {
    const rules = await shippedRules();
    const { store, rows } = fakeAlertStore();
    const saver = new AlertSaver({ alerts: store, logger });
    const r = runner(rules, store, { saver });
    const all = expandFixtureEvents([issued('t1'), used('5s', 't1', { scope: 'projects:delete' })], start);
    r.onStored(all);
    await saver.flush();
    expect(r.engine.stats().events).toBe(0);
    expect([...rows.values()].map((a) => a.kind)).toEqual(['out_of_scope']);
    await r.finish();
    const expected = replayEvents(all, { rules, logger }).filter((a) => a.kind === 'out_of_scope');
    expect(essentials([...rows.values()].filter((a) => a.kind === 'out_of_scope'))).toEqual(
      essentials(expected),
    );
  });

  it('saves early alerts before the engine goes through the events the batch releases', async () => {
    const rules = await shippedRules();
    const { store, rows } = fakeAlertStore();
    const fedAtSave: number[] = [];
    const saved: string[] = [];
    const engineEvents = { count: () => 0 };
    const watched: AlertStore = {
      ...store,
      save: (a) => {
        fedAtSave.push(engineEvents.count());
        saved.push(...a.map((x) => x.id));
        return store.save(a);
      },
    };
    const r = runner(rules, watched, { allowedLatenessMs: 0 });
    engineEvents.count = () => r.engine.stats().events;
    const all = expandFixtureEvents(
      [issued('t1'), used('5s', 't1', { scope: 'projects:delete' }), used('10s', 'ghost')],
      start,
    );
    r.onStored(all);
    await new Promise((done) => setImmediate(done)); // the ingest path goes back to the event loop
    await r.finish();
    expect(fedAtSave[0]).toBe(0); // the out_of_scope alert left before the event-time pass
    // The engine's own out_of_scope alert, later, is that very alert: it is not saved again.
    const outOfScope = [...rows.values()].find((a) => a.kind === 'out_of_scope')?.id;
    expect(saved.filter((id) => id === outOfScope)).toHaveLength(1);
    expect(r.engine.stats().events).toBe(all.length);
    expect(essentials([...rows.values()])).toEqual(essentials(replayEvents(all, { rules, logger })));
  });

  it('withdraws an early alert that event-time order does not confirm', async () => {
    // Not order-free in truth: a revocation arriving late (but in time) makes it false.
    const text = `
- rule: Used before revocation
  kind: use_before_revoke
  desc: d
  severity: low
  condition: event.type == "token.used" && event.time < token.revoked_at
- kind: use_before_revoke
  desc: d
`;
    const rules = compileRuleSet([{ file: 'x.yaml', text }]);
    const { store, rows } = fakeAlertStore();
    const saver = new AlertSaver({ alerts: store, logger });
    const r = runner(rules, store, { saver });
    const [iss, rev, use] = expandFixtureEvents(
      [issued('t1'), revoked('1m', 't1'), used('2m', 't1')],
      start,
    ) as [StoredEvent, StoredEvent, StoredEvent];
    r.onStored([iss]);
    r.onStored([use]); // early: t1 not revoked as far as anything processed knows
    await saver.flush();
    expect([...rows.values()].map((a) => a.status)).toEqual(['open']);
    r.onStored([rev]); // within the lateness: in event-time order the use follows it
    await r.finish();
    expect([...rows.values()].map((a) => a.status)).toEqual(['dismissed']);
    expect(replayEvents([iss, rev, use], { rules, logger })).toEqual([]);
    expect(r.engine.stats()).toMatchObject({ early: 1, withdrawn: 1 });
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
