import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { disabled, issued, revoked, used } from '../../src/detect/eventBuilders.js';
import { expandFixtureEvents, type FixtureEvent } from '../../src/detect/fixtureEvent.js';
import { compileRuleSet, loadRules, RuleLoadError } from '../../src/detect/rules.js';
import { createScheduledDetectors } from '../../src/detect/scheduled/index.js';
import { openStore } from '../../src/index.js';
import { createAlertStore } from '../../src/store/alertStore.js';
import type { Store } from '../../src/store/store.js';
import { testConfig, testLogger } from '../support/store.js';

const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);
/** Every check below is as of day 100 of the scenario. */
const AS_OF = START + 100 * DAY;

/** Hits and near misses for every hygiene detector; `at` is days after START. */
const EVENTS: FixtureEvent[] = [
  // stale_unused: last use 31 vs 29 days before AS_OF; a use after AS_OF does not count.
  issued('stale-hit'),
  used('69d', 'stale-hit'),
  issued('stale-miss'),
  used('71d', 'stale-miss'),
  issued('future-use'),
  used('69d', 'future-use'),
  used('110d', 'future-use'),
  revoked('120d', 'future-use'),
  // never_used: issued 15 vs 13 days before AS_OF; used once.
  issued('never-hit', {}, '85d'),
  issued('never-miss', {}, '87d'),
  issued('used-once', {}, '80d'),
  used('81d', 'used-once'),
  // rotation_overdue: 95 vs 85 days old; push_only limit 30d, user limit 180d.
  issued('old-sa', {}, '5d'),
  issued('young-sa', {}, '15d'),
  issued('push-hit', { kind: 'push_only' }, '65d'),
  issued('user-miss', { kind: 'user' }),
  // Rotated and revoked: not overdue. Replaced but still working: overdue.
  issued('rotated'),
  issued('rotated-new', { replaces: 'rotated' }, '50d'),
  revoked('51d', 'rotated'),
  issued('replaced-old'),
  issued('replaced-new', { replaces: 'replaced-old' }, '50d'),
  // no_expiry: everything active above lacks an expiry; this one has one.
  issued('exp-miss', { expires_at: '+200d' }),
  // orphaned_token: sa-gone disabled at day 90; sa-late 30 minutes before AS_OF (within grace).
  issued('orphan-hit', { principal: 'sa-gone' }, '10d'),
  issued('orphan-expired', { principal: 'sa-gone', expires_at: '+95d' }, '10d'),
  issued('orphan-revoked', { principal: 'sa-gone' }, '10d'),
  disabled('90d', 'sa-gone'),
  revoked('90d30m', 'orphan-revoked'),
  issued('late-tok', { principal: 'sa-late' }, '10d'),
  disabled('99d23h30m', 'sa-late'),
];

const RULES = `
- rule: Stale
  kind: stale_unused
  desc: test
  severity: low
  params: {after: 30d}
- rule: Never used
  kind: never_used
  desc: test
  severity: low
  params: {after: 14d}
- rule: Rotation
  kind: rotation_overdue
  desc: test
  severity: medium
  params: {max_age: 90d, max_age_by_kind: [push_only=30d, user=180d]}
- rule: No expiry
  kind: no_expiry
  desc: test
  severity: low
  params: {require_expiry: true}
- rule: Orphan
  kind: orphaned_token
  desc: test
  severity: high
  params: {grace: 1h}
  tags: [T1078.004]
  response: {confirm: manual, revoke: true}
`;

const rulesOf = (text: string) => compileRuleSet([{ file: 'rules/test.yaml', text }]);
const tokens = (alerts: Alert[], kind: string) =>
  alerts
    .filter((a) => a.kind === kind)
    .map((a) => a.token_id)
    .sort();

let store: Store;
const logger = testLogger();
const run = (asOf: number, text = RULES) =>
  createScheduledDetectors({ store, rules: rulesOf(text), logger }).run(asOf);

beforeAll(async () => {
  store = await openStore(testConfig(), logger);
  const rows = expandFixtureEvents(EVENTS, START).map((e) => ({
    ...e,
    ingest_source: 'test',
    ingest_partition: 0,
    ingest_offset: -1,
    ingested_at: e.time,
  }));
  await store.insertEvents(rows, 'scheduled-test');
});
afterAll(() => store?.close());

describe('scheduled detectors, as of an event time', () => {
  let alerts: Alert[];
  beforeAll(async () => {
    alerts = await run(AS_OF);
  });

  it('stale_unused: flags a token last used 31 days ago, not 29; later uses do not count', () => {
    expect(tokens(alerts, 'stale_unused')).toEqual(['future-use', 'stale-hit']);
    const a = alerts.find((x) => x.kind === 'stale_unused' && x.token_id === 'stale-hit')!;
    expect(a.first_seen).toBe(START + 99 * DAY);
    expect(a.last_seen).toBe(AS_OF);
    expect(a.summary).toMatch(/stale-hit \(service_account of sa-ci\) unused for 31 days/);
    expect(a.details.context).toMatchObject({ idle_days: 31, uses: 1, principal: 'sa-ci' });
    expect(a.details.scopes).toEqual(['projects:read']);
  });

  it('never_used: flags a token issued 15 days ago, not 13, nor one used, revoked or expired', () => {
    const found = tokens(alerts, 'never_used');
    expect(found).toContain('never-hit');
    for (const miss of ['never-miss', 'used-once', 'rotated', 'orphan-expired', 'orphan-revoked'])
      expect(found).not.toContain(miss);
  });

  it('rotation_overdue: by age and per kind; a rotated, revoked token is not overdue', () => {
    const found = tokens(alerts, 'rotation_overdue');
    for (const hit of ['old-sa', 'push-hit', 'replaced-old', 'exp-miss']) expect(found).toContain(hit);
    for (const miss of ['young-sa', 'user-miss', 'rotated', 'rotated-new', 'replaced-new'])
      expect(found).not.toContain(miss);
    const push = alerts.find((a) => a.kind === 'rotation_overdue' && a.token_id === 'push-hit')!;
    expect(push.details.context).toMatchObject({ max_age_days: 30, age_days: 35 });
    const replaced = alerts.find((a) => a.kind === 'rotation_overdue' && a.token_id === 'replaced-old')!;
    expect(replaced.summary).toMatch(/replaced by replaced-new but not revoked/);
  });

  it('no_expiry: flags active tokens without an expiry only', () => {
    const found = tokens(alerts, 'no_expiry');
    expect(found).toContain('old-sa');
    for (const miss of ['exp-miss', 'orphan-expired', 'rotated']) expect(found).not.toContain(miss);
  });

  it('orphaned_token: an active token of a disabled principal, not an expired or revoked one', () => {
    expect(tokens(alerts, 'orphaned_token')).toEqual(['orphan-hit']);
    const a = alerts.find((x) => x.kind === 'orphaned_token')!;
    expect(a).toMatchObject({
      severity: 'high',
      principal: 'sa-gone',
      tags: ['T1078.004'],
      response: { confirm: 'manual', revoke: true },
      first_seen: START + 90 * DAY + 3_600_000,
    });
    expect(a.evidence).toEqual(['e23', 'e26']);
    expect(a.summary).toMatch(/principal sa-gone was disabled 2024-03-31T00:00:00.000Z/);
  });

  it('waits out the grace after a disable, and sees nothing of events after as-of', async () => {
    expect(tokens(await run(AS_OF + DAY), 'orphaned_token')).toEqual(['late-tok', 'orphan-hit']);
    expect(tokens(await run(START + 89 * DAY), 'orphaned_token')).toEqual([]);
  });
});

describe('scheduled alert ids', () => {
  it('are the same on every run, and stay as event time moves on', async () => {
    const first = await run(AS_OF);
    expect(await run(AS_OF)).toEqual(first);
    const later = new Set((await run(AS_OF + 3 * DAY)).map((a) => a.id));
    for (const a of first) expect(later.has(a.id), `${a.kind} ${a.token_id}`).toBe(true);
  });

  it('re-save the same alerts instead of multiplying them', async () => {
    const alertStore = createAlertStore(store);
    const first = await run(AS_OF);
    const second = await run(AS_OF + DAY);
    await alertStore.save(first);
    await alertStore.save(first);
    await alertStore.save(second);
    const ids = new Set([...first, ...second].map((a) => a.id));
    const [row] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${store.database}.alerts FINAL`);
    expect(Number(row!.n)).toBe(ids.size);
  });
});

describe('scheduled rules', () => {
  it('are silenced by exceptions and disabled by enabled: false', async () => {
    const text = `${RULES}
  exceptions:
    - name: decommissioned
      fields: [token.principal]
      values: [[sa-gone]]
- rule: Stale
  override: true
  enabled: false
`;
    const alerts = await run(AS_OF, text);
    expect(tokens(alerts, 'orphaned_token')).toEqual([]);
    expect(tokens(alerts, 'stale_unused')).toEqual([]);
    expect(tokens(alerts, 'never_used')).toContain('never-hit');
  });

  it('render `output` when a rule gives one', async () => {
    const text = RULES.replace(
      '  tags: [T1078.004]',
      '  output: Orphan {token.id} of {principal.name}, {age_days} days old\n  tags: [T1078.004]',
    );
    const [a] = (await run(AS_OF, text)).filter((x) => x.kind === 'orphaned_token');
    expect(a!.summary).toBe('Orphan orphan-hit of sa-gone, 90 days old');
  });

  it('no_expiry finds nothing when the policy does not require expiry', async () => {
    const alerts = await run(AS_OF, RULES.replace('{require_expiry: true}', '{require_expiry: false}'));
    expect(tokens(alerts, 'no_expiry')).toEqual([]);
  });

  it('refuse bad params with file, rule and reason', () => {
    const bad = RULES.replace('push_only=30d', 'push_only');
    expect(() => createScheduledDetectors({ store, rules: rulesOf(bad), logger })).toThrow(RuleLoadError);
    expect(() => createScheduledDetectors({ store, rules: rulesOf(bad), logger })).toThrow(
      /rules\/test\.yaml.*Rotation.*max_age_by_kind/,
    );
    expect(() =>
      createScheduledDetectors({
        store,
        rules: rulesOf(RULES.replace('{after: 14d}', '{afterr: 14d}')),
        logger,
      }),
    ).toThrow(/unknown param\(s\) afterr/);
  });

  it('ship in rules/hygiene.yaml, one per kind, and find every kind with their defaults', async () => {
    const dir = join(fileURLToPath(new URL('../../', import.meta.url)), 'rules');
    const rules = await loadRules(dir);
    expect(rules.scheduled.map((r) => r.kind).sort()).toEqual([
      'never_used',
      'no_expiry',
      'orphaned_token',
      'rotation_overdue',
      'stale_unused',
    ]);
    const alerts = await createScheduledDetectors({ store, rules, logger }).run(AS_OF);
    expect(new Set(alerts.map((a) => a.kind)).size).toBe(5);
  });
});
