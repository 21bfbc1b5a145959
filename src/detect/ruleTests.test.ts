import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { runRuleTests } from './ruleTests.js';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const logger = pino({ level: 'silent' });

describe('runRuleTests()', () => {
  it('passes every shipped fixture, with a positive and a negative case per shipped rule', async () => {
    const report = await runRuleTests(root('rules'), root('test/fixtures/rules'), { logger });
    const failures = report.results.filter((r) => !r.passed).map((r) => `${r.rule} / ${r.case}: ${r.reason}`);
    expect(failures).toEqual([]);
    expect(report.untested).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('reports a case whose alerts differ, and rules without cases', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'choir-fixtures-'));
    await writeFile(
      join(dir, 'privilege.yaml'),
      `- rule: Token used outside its granted scopes
  cases:
    - name: expects an alert that does not come
      events:
        - {type: token.issued, at: 0s, token: {id: t1, scopes: ["projects:*"]}}
        - {type: token.used, at: 1m, token: {id: t1}, request: {scope: "projects:read"}}
      expect:
        - {kind: out_of_scope, token_id: t1}
`,
    );
    const report = await runRuleTests(root('rules'), dir, { logger });
    expect(report.ok).toBe(false);
    expect(report.results[0]).toMatchObject({
      passed: false,
      reason: expect.stringMatching(/^expected .*got no alerts/),
    });
    expect(report.untested).toContainEqual({
      rule: 'Token used outside its granted scopes',
      missing: 'negative',
    });
    expect(report.untested).toContainEqual({ rule: 'Unknown token used', missing: 'both' });
  });
});
