import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RuleLoadError, runRuleTests } from '../detect/index.js';
import { cliContext } from './context.js';
import type { CliArgs } from './main.js';

/**
 * `choir rules test [--rules DIR] [--fixtures DIR]`: every fixture case through the engine that
 * runs live, one pass/fail line each; exit 1 on a failure, a rule without a positive and a
 * negative case, or a rule file that does not load. Fixtures default to `tests/` inside the
 * rules directory when it has one (a copied rules directory brings its own), else the
 * shipped `test/fixtures/rules`.
 */
export async function rulesCommand(args: CliArgs): Promise<number> {
  if (args.positionals[0] !== 'test') {
    process.stderr.write('usage: choir rules test [--rules DIR] [--fixtures DIR] [--json]\n');
    return 2;
  }
  const { config, logger } = cliContext(args);
  const rulesDir = args.rules ?? config.detect.rules_dir;
  const fixtures =
    args.fixtures ?? (existsSync(join(rulesDir, 'tests')) ? join(rulesDir, 'tests') : 'test/fixtures/rules');
  let report: Awaited<ReturnType<typeof runRuleTests>>;
  try {
    report = await runRuleTests(rulesDir, fixtures, { logger });
  } catch (err) {
    if (!(err instanceof RuleLoadError)) throw err;
    process.stderr.write(`choir rules test: rules do not load: ${err.message}\n`);
    return 1;
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return report.ok ? 0 : 1;
  }
  const out: string[] = [];
  for (const r of report.results) {
    out.push(
      `${r.passed ? 'pass' : 'FAIL'}  ${r.rule} › ${r.case}${r.passed && !r.reason ? '' : `: ${r.reason}`}`,
    );
  }
  for (const u of report.untested)
    out.push(`FAIL  ${u.rule}: no ${u.missing === 'both' ? 'positive or negative' : u.missing} case`);
  const failed = report.results.filter((r) => !r.passed).length;
  out.push(
    `${report.results.length - failed} passed, ${failed} failed, ${report.untested.length} rules lacking cases ` +
      `(rules ${rulesDir}, fixtures ${fixtures})`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return report.ok ? 0 : 1;
}
