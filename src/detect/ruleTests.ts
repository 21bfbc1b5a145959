import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { Alert } from './alert.js';
import { expandFixtureEvents, type FixtureEvent } from './fixtureEvent.js';
import { replayEvents } from './replayEvents.js';
import { loadRules, type RuleSet } from './rules.js';

/** One expected alert; unset fields are not compared. */
export interface ExpectedAlert {
  kind?: string;
  token_id?: string;
  severity?: string;
  count?: number;
}

interface FixtureCase {
  name: string;
  start?: string;
  events: FixtureEvent[];
  expect: ExpectedAlert[];
}

export interface RuleTestResult {
  rule: string;
  case: string;
  file: string;
  passed: boolean;
  reason?: string;
}

export interface RuleTestReport {
  ok: boolean;
  results: RuleTestResult[];
  /** Enabled rules lacking a positive or a negative case. */
  untested: Array<{ rule: string; missing: 'positive' | 'negative' | 'both' }>;
}

const DEFAULT_START = '2024-01-01T00:00:00.000Z';

/**
 * Run rule fixtures (`*.yaml` in `fixturesDir`: a list of `{rule, cases: [{name, events,
 * expect}]}`) through the engine that runs live, each case on a fresh engine with every rule
 * loaded, and compare the alerts of the rule under test (final, after aggregation).
 */
export async function runRuleTests(
  rulesDir: string,
  fixturesDir: string,
  options: { logger: Logger },
): Promise<RuleTestReport> {
  const rules = await loadRules(rulesDir);
  const files = (await readdir(fixturesDir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  const results: RuleTestResult[] = [];
  const coverage = new Map<string, { positive: boolean; negative: boolean }>();
  for (const name of files) {
    const file = join(fixturesDir, name);
    const doc = parseYaml(await readFile(file, 'utf8')) as Array<{
      rule: string;
      cases: FixtureCase[];
    }> | null;
    for (const entry of doc ?? []) {
      for (const c of entry.cases ?? []) {
        const result = runCase(rules, entry.rule, c, options.logger);
        results.push({ rule: entry.rule, case: c.name, file, ...result });
        const seen = coverage.get(entry.rule) ?? { positive: false, negative: false };
        if (c.expect.length > 0) seen.positive = true;
        else seen.negative = true;
        coverage.set(entry.rule, seen);
      }
    }
  }
  const untested: RuleTestReport['untested'] = [];
  for (const rule of rules.rules) {
    if (!rule.enabled) continue;
    const seen = coverage.get(rule.name);
    if (!seen?.positive || !seen.negative) {
      untested.push({ rule: rule.name, missing: !seen ? 'both' : seen.positive ? 'negative' : 'positive' });
    }
  }
  return { ok: untested.length === 0 && results.every((r) => r.passed), results, untested };
}

/** Run one case; returns whether the alerts of `ruleName` match `c.expect`. */
export function runCase(
  rules: RuleSet,
  ruleName: string,
  c: FixtureCase,
  logger: Logger,
): { passed: boolean; reason?: string } {
  const rule = rules.rules.find((r) => r.name === ruleName);
  if (!rule) return { passed: false, reason: `no rule named "${ruleName}"` };
  if (!rule.enabled) return { passed: true, reason: 'rule disabled: skipped' };
  let got: Alert[];
  try {
    const events = expandFixtureEvents(c.events ?? [], Date.parse(c.start ?? DEFAULT_START));
    got = replayEvents(events, { rules, logger, verifyPrefilters: true }).filter((a) => a.rule === ruleName);
  } catch (error) {
    return { passed: false, reason: `engine failed: ${(error as Error).message}` };
  }
  const unmatched = [...got];
  for (const want of c.expect ?? []) {
    const i = unmatched.findIndex((a) => matches(a, want));
    if (i < 0) return { passed: false, reason: `expected ${JSON.stringify(want)}, got ${describe(got)}` };
    unmatched.splice(i, 1);
  }
  if (unmatched.length > 0) return { passed: false, reason: `unexpected alert(s): ${describe(unmatched)}` };
  return { passed: true };
}

function matches(alert: Alert, want: ExpectedAlert): boolean {
  return (Object.keys(want) as Array<keyof ExpectedAlert>).every((k) => alert[k] === want[k]);
}

function describe(alerts: Alert[]): string {
  if (alerts.length === 0) return 'no alerts';
  return alerts
    .map((a) =>
      JSON.stringify({
        kind: a.kind,
        token_id: a.token_id,
        severity: a.severity,
        count: a.count,
        summary: a.summary,
      }),
    )
    .join(', ');
}
