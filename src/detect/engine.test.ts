import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../events/contract.js';
import { typeIndex } from './activeRules.js';
import type { Alert, AlertChange } from './alert.js';
import { Engine } from './engine.js';
import type { EngineSnapshot } from './engineSnapshot.js';
import { issued, used } from './eventBuilders.js';
import { expandFixtureEvents, type FixtureEvent } from './fixtureEvent.js';
import { readRuleDir } from './ruleFiles.js';
import { compileRuleSet, type RuleSet } from './rules.js';

const logger = pino({ level: 'silent' });
const start = Date.parse('2024-03-01T00:00:00Z');
const NEW_SOURCE = `
- rule: New network
  kind: new_source
  desc: d
  severity: medium
  params: {learning_period: 1d}
`;
const ruleSet = (text: string) => compileRuleSet([{ file: 'rules.yaml', text }]);

function recorder(rules: RuleSet, extra: Partial<ConstructorParameters<typeof Engine>[0]> = {}) {
  const seen: Array<{ alert: Alert; change: AlertChange }> = [];
  const engine = new Engine({
    rules,
    logger,
    onAlert: (alert, change) => seen.push({ alert, change }),
    ...extra,
  });
  const run = (events: FixtureEvent[]) => {
    for (const ev of expandFixtureEvents(events, start)) engine.process(ev);
  };
  return { engine, seen, run };
}

const learnt = [
  issued('t1'),
  used('1m', 't1', { source_ip: '10.0.0.1' }),
  used('2d', 't1', { source_ip: '10.0.0.2' }),
];

describe('Engine', () => {
  it('keeps learned networks when rules are swapped', () => {
    const { engine, seen, run } = recorder(ruleSet(NEW_SOURCE));
    run(learnt);
    engine.setRules(ruleSet(NEW_SOURCE.replace('severity: medium', 'severity: high')));
    run([used('3d', 't1', { source_ip: '10.0.0.3' }), used('3d1m', 't1', { source_ip: '192.0.2.1' })]);
    expect(seen.map((s) => [s.alert.details.source_ips, s.alert.severity])).toEqual([
      [['192.0.2.1'], 'high'],
    ]);
  });

  it('forgets the state of a rule that was removed', () => {
    const { engine, seen, run } = recorder(ruleSet(NEW_SOURCE));
    run(learnt);
    engine.setRules(
      ruleSet(
        NEW_SOURCE.replace('New network', 'Other')
          .replace('kind: new_source', 'kind: concurrent_sources')
          .replace('{learning_period: 1d}', '{}'),
      ),
    );
    engine.setRules(ruleSet(NEW_SOURCE));
    run([used('3d', 't1', { source_ip: '192.0.2.1' })]);
    expect(seen).toEqual([]);
  });

  it('does not re-alert known sources after a restart from a snapshot', () => {
    const first = recorder(ruleSet(NEW_SOURCE));
    first.run([...learnt, used('3d', 't1', { source_ip: '192.0.2.1' })]);
    expect(first.seen.map((s) => s.change)).toEqual(['opened']);
    const snapshot = JSON.parse(JSON.stringify(first.engine.snapshot())) as EngineSnapshot;
    const seen: AlertChange[] = [];
    const second = Engine.restore(snapshot, {
      rules: ruleSet(NEW_SOURCE),
      logger,
      onAlert: (_alert, change) => seen.push(change),
    });
    for (const ev of expandFixtureEvents(
      [used('3d1m', 't1', { source_ip: '192.0.2.1' }), used('3d2m', 't1', { source_ip: '10.0.0.9' })],
      start,
    )) {
      second.process(ev);
    }
    expect(seen).toEqual([]);
    for (const ev of expandFixtureEvents([used('3d3m', 't1', { source_ip: '198.51.100.1' })], start))
      second.process(ev);
    second.flush();
    // The new network merges into the alert window restored from the snapshot.
    expect(seen).toEqual(['updated']);
  });

  it('gives a replay the same alerts, ids included', async () => {
    const rules = compileRuleSet(await readRuleDir(fileURLToPath(new URL('../../rules', import.meta.url))));
    const events: FixtureEvent[] = [
      issued('t1', { scopes: ['projects:read'], expires_at: '+1h' }),
      used('5m', 't1', { scope: 'projects:write' }),
      used('2h', 't1', { source_ip: '203.0.113.1' }),
      used('3h', 'ghost'),
    ];
    const runOnce = () => {
      const r = recorder(rules);
      r.run(events);
      r.engine.flush();
      return r.seen;
    };
    const first = runOnce();
    expect(first.map((s) => s.alert.kind).sort()).toEqual([
      'out_of_scope',
      'unknown_token',
      'use_after_expiry',
    ]);
    expect(runOnce()).toEqual(first);
  });

  it('emits merged repeats once the watermark passes the alert window', () => {
    const rules = ruleSet(`
- rule: Write
  kind: out_of_scope
  desc: d
  severity: low
  condition: event.type == "token.used" && event.request_scope == "projects:write"
  params: {dedup_window: 10m}
`);
    const { seen, run } = recorder(rules, { allowedLateness: 1_000 });
    run([used('1m', 't1', { scope: 'projects:write' }), used('2m', 't1', { scope: 'projects:write' })]);
    expect(seen.map((s) => s.change)).toEqual(['opened']);
    run([used('11m', 't1', { scope: 'projects:read' })]);
    expect(seen.map((s) => [s.change, s.alert.count])).toEqual([
      ['opened', 1],
      ['updated', 2],
    ]);
  });

  it('lets exceptions silence matches without editing the rule', () => {
    const base = `
- rule: Write
  kind: out_of_scope
  desc: d
  severity: low
  condition: event.type == "token.used" && event.request_scope == "projects:write"
  exceptions:
    - {name: ci, fields: [event.source_ip, event.user_agent], comps: [in_cidr, startswith], values: []}
`;
    const local =
      '- rule: Write\n  override: true\n  exceptions:\n    - {name: ci, fields: [event.source_ip, event.user_agent], comps: [in_cidr, startswith], values: [[10.0.0.0/8, ci/]]}\n';
    const rules = compileRuleSet([
      { file: 'a.yaml', text: base },
      { file: 'b.yaml', text: local },
    ]);
    const { engine, seen, run } = recorder(rules);
    run([
      used('1m', 't1', { scope: 'projects:write' }),
      used('2m', 't1', { scope: 'projects:write', source_ip: '192.0.2.1' }),
    ]);
    expect(seen.map((s) => s.alert.details.source_ips)).toEqual([['192.0.2.1']]);
    expect(engine.stats().suppressed).toBe(1);
  });

  it('counts a condition failing on an event as no match', () => {
    const rules = ruleSet(`
- rule: Team
  kind: out_of_scope
  desc: d
  severity: low
  condition: event.type == "token.used" && event.attributes["team"] != "red"
`);
    const { engine, seen, run } = recorder(rules);
    // CEL raises "no such key" for the event without the attribute.
    run([used('1m', 't1'), used('2m', 't1', {}, { attributes: { team: 'blue' } })]);
    expect(seen).toHaveLength(1);
    expect(engine.stats().ruleErrors).toBe(1);
  });

  it('evicts least recently used tokens beyond maxTokens', () => {
    const { engine, run } = recorder(ruleSet(NEW_SOURCE), { maxTokens: 100 });
    run(Array.from({ length: 300 }, (_, i) => issued(`t${i}`, {}, `${i}s`)));
    expect(engine.stats().tokens).toBeLessThanOrEqual(100);
    expect(engine.stats().evicted).toBeGreaterThanOrEqual(200);
  });

  it('gives the number of an evicted token to a new one without its state', () => {
    const { seen, run } = recorder(ruleSet(NEW_SOURCE), { maxTokens: 100 });
    const old = (i: number) => [
      issued(`old${i}`, {}, `${i}s`),
      used(`${i}s`, `old${i}`, { source_ip: '10.0.0.1' }),
    ];
    run(Array.from({ length: 300 }, (_, i) => old(i)).flat());
    // First uses of new tokens, a day and more later: learning starts now, whatever the number held.
    const fresh = (i: number) => [
      issued(`new${i}`, {}, `2d${i}s`),
      used(`2d${i}s`, `new${i}`, { source_ip: '192.0.2.1' }),
    ];
    run(Array.from({ length: 300 }, (_, i) => fresh(i)).flat());
    expect(seen).toEqual([]);
  });

  it('counts events later than the watermark', () => {
    const { engine, run } = recorder(ruleSet(NEW_SOURCE), { allowedLateness: 5_000 });
    run([used('10m', 't1'), used('20m', 't1')]);
    run([used('1m', 't1')]);
    expect(engine.stats().late).toBe(1);
  });

  it('indexes event types as EVENT_TYPES does', () => {
    EVENT_TYPES.forEach((type, i) => {
      expect(typeIndex(type)).toBe(i);
    });
    expect(typeIndex('token.other')).toBe(-1);
  });
});
