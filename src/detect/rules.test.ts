import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileRuleSet, loadRules, RuleLoadError } from './rules.js';

const RULE = `
- rule: Admin scope used
  kind: out_of_scope
  desc: An admin scope was used.
  condition: event.type == "token.used" && event.request_scope.startsWith("admin:")
  severity: high
`;

function load(text: string) {
  return compileRuleSet([{ file: 'rules/test.yaml', text }]);
}

function loadError(text: string): RuleLoadError {
  try {
    load(text);
  } catch (error) {
    if (error instanceof RuleLoadError) return error;
    throw error;
  }
  throw new Error('expected a RuleLoadError');
}

describe('loadRules()', () => {
  it('loads and compiles every shipped rule', async () => {
    const set = await loadRules(fileURLToPath(new URL('../../rules', import.meta.url)));
    expect(set.rules.length).toBeGreaterThanOrEqual(13);
    for (const rule of set.rules) {
      expect(
        rule.tags.some((t) => /^T\d{4}/.test(t)),
        rule.name,
      ).toBe(true);
      expect(rule.eventTypes).toEqual(['token.used']);
      // Every shipped condition compiles fully to the JS prefilter (CEL only confirms matches).
      expect(rule.prefilter.compiled, rule.name).toBe(rule.prefilter.operands);
    }
  });

  it('refuses a directory without rule files', async () => {
    await expect(loadRules(fileURLToPath(new URL('./detectors', import.meta.url)))).rejects.toThrow(
      /no rule files/,
    );
  });
});

describe('compileRuleSet()', () => {
  it('compiles a rule with its defaults', () => {
    const [rule] = load(RULE).rules;
    expect(rule).toMatchObject({
      name: 'Admin scope used',
      kind: 'out_of_scope',
      severity: 'high',
      enabled: true,
    });
    expect(rule?.response).toEqual({ confirm: 'manual', revoke: false });
    expect(rule?.dedupWindow).toBe(3_600_000);
  });

  it('refuses invalid YAML, naming the file', () => {
    const error = loadError('- rule: [unclosed');
    expect(error.message).toMatch(/^rules\/test\.yaml: invalid YAML/);
  });

  it('refuses a condition that does not parse, naming file, rule and reason', () => {
    const error = loadError(RULE.replace('event.type == "token.used"', 'event.type == == 1'));
    expect(error.message).toMatch(/^rules\/test\.yaml: rule "Admin scope used": condition does not parse/);
  });

  it('refuses a condition reading a field events do not have', () => {
    expect(loadError(RULE.replace('event.request_scope', 'event.request_scop')).reason).toMatch(
      /not valid CEL/,
    );
  });

  it('refuses a condition on an event type that does not exist', () => {
    expect(loadError(RULE.replace('"token.used"', '"token.usd"')).reason).toMatch(
      /"token.usd", which is not one of/,
    );
  });

  it('refuses a condition that is not true or false', () => {
    expect(loadError(RULE.replace(/condition: .*/, 'condition: event.time')).reason).toMatch(/type double/);
  });

  it('refuses an unknown kind unless the file declares it', () => {
    const typo = RULE.replace('kind: out_of_scope', 'kind: out_of_scoep');
    expect(loadError(typo).reason).toMatch(/unknown kind "out_of_scoep"/);
    expect(load(`- kind: out_of_scoep\n  desc: custom\n${typo}`).rules[0]?.kind).toBe('out_of_scoep');
  });

  it('refuses a rule missing a required field', () => {
    expect(loadError(RULE.replace(/ {2}severity: high\n/, '')).reason).toMatch(
      /"severity" must be a non-empty string/,
    );
    expect(loadError(RULE.replace(/ {2}desc: .*\n/, '')).reason).toMatch(/"desc"/);
  });

  it('refuses misspelt keys instead of ignoring them', () => {
    expect(loadError(`${RULE}  severty: low\n`).reason).toMatch(/unknown key\(s\) severty/);
  });

  it('refuses a bad severity and bad detector params', () => {
    expect(loadError(RULE.replace('severity: high', 'severity: urgent')).reason).toMatch(
      /low\|medium\|high\|critical/,
    );
    const spike = `
- rule: Spike
  kind: request_spike
  desc: d
  severity: low
  params: {warm_up: soon}
`;
    expect(loadError(spike).reason).toBe('params.warm_up must be a duration like 1d, got "soon"');
    expect(loadError(spike.replace('warm_up: soon', 'windw: 5m')).reason).toMatch(/unknown param\(s\) windw/);
  });

  it('requires a condition for kinds without a detector', () => {
    expect(loadError(RULE.replace(/ {2}condition: .*\n/, '')).reason).toMatch(/"condition" is required/);
  });

  it('expands macros and named lists, and refuses macro cycles', () => {
    const text = `
- list: admin_scopes
  items: ["admin:all", "admin:users"]
- macro: admin_use
  condition: event.request_scope in admin_scopes
- rule: Admin use
  kind: out_of_scope
  desc: d
  severity: low
  condition: event.type == "token.used" && admin_use
`;
    expect(load(text).rules[0]?.expanded).toBe(
      'event.type == "token.used" && (event.request_scope in admin_scopes)',
    );
    const cyclic = text.replace('event.request_scope in admin_scopes', 'admin_use');
    expect(loadError(cyclic).reason).toMatch(/macro cycle admin_use -> admin_use/);
  });

  it('lets a later definition override a rule only when it says so', () => {
    const override = '- rule: Admin scope used\n  override: true\n  enabled: false\n';
    expect(loadError(`${RULE}\n- rule: Admin scope used\n  enabled: false\n`).reason).toMatch(
      /already defined/,
    );
    const set = compileRuleSet([
      { file: 'a.yaml', text: RULE },
      { file: 'b.yaml', text: override },
    ]);
    expect(set.rules[0]).toMatchObject({ enabled: false, severity: 'high', file: 'a.yaml' });
  });

  it('refuses exceptions on unknown fields or with malformed values', () => {
    const bad = `${RULE}  exceptions:\n    - {name: ci, fields: [event.nope], values: [[x]]}\n`;
    expect(loadError(bad).reason).toMatch(/unknown field "event.nope"/);
    const arity = `${RULE}  exceptions:\n    - {name: ci, fields: [event.source_ip, event.user_agent], values: [[x]]}\n`;
    expect(loadError(arity).reason).toMatch(/2 value\(s\)/);
    const cidr = `${RULE}  exceptions:\n    - {name: ci, fields: [event.source_ip], comps: [in_cidr], values: [[10.0.0.0/99]]}\n`;
    expect(loadError(cidr).reason).toMatch(/not a CIDR block/);
  });

  it('keeps rules of scheduled kinds without a condition for the SQL detectors', () => {
    const set = load(
      '- rule: Stale\n  kind: stale_unused\n  desc: d\n  severity: low\n  params: {after: 30d}\n',
    );
    expect(set.rules).toEqual([]);
    expect(set.scheduled[0]).toMatchObject({ kind: 'stale_unused', params: { after: '30d' } });
  });

  it('gives conditions their params with durations in ms', () => {
    const text = RULE.replace(
      /condition: .*/,
      'condition: event.time > token.revoked_at + params.grace',
    ).concat('  params: {grace: 1m30s}\n');
    expect(load(text).rules[0]?.values).toEqual({ grace: 90_000, dedup_window: 3_600_000 });
  });
});
