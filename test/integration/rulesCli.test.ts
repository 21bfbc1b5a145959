import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChoir } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'choir-rules-cli-'));
const env = { CHOIR_DATA_DIR: join(dir, 'data'), CHOIR_LOG_LEVEL: 'warn', CHOIR_HTTP_PORT: '0' };

/** A rules directory holding one rule whose condition does not compile. */
function brokenRules(): { dir: string; file: string } {
  const rules = mkdtempSync(join(dir, 'rules-'));
  const file = join(rules, 'privilege.yaml');
  writeFileSync(
    file,
    `- rule: Write with a read token
  kind: out_of_scope
  desc: A condition cut short.
  severity: high
  condition: event.type == "token.used" &&
`,
  );
  return { dir: rules, file };
}

describe('choir rules test', () => {
  it('passes every shipped fixture through the live engine, one line per case', () => {
    const r = runChoir(['rules', 'test'], env);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.slice(0, -1).every((l) => l.startsWith('pass  '))).toBe(true);
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed, 0 rules lacking cases/);
  });

  it('exits 1 naming the file, rule and reason when a rule file does not load', () => {
    const broken = brokenRules();
    const r = runChoir(['rules', 'test', '--rules', broken.dir], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${broken.file}: rule "Write with a read token": `);
  });
});

describe('choir serve with a broken rule file', () => {
  it('refuses to start, naming the file, rule and reason', () => {
    const broken = brokenRules();
    const r = runChoir(['serve'], { ...env, CHOIR_RULES_DIR: broken.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^choir: ${broken.file.replaceAll('/', '\\/')}: rule "Write with a read token": .+`, 'm'),
    );
  });
});

describe('choir alerts list', () => {
  it('prints nothing for a store without alerts', () => {
    const r = runChoir(['alerts', 'list', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
  });
});
