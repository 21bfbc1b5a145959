import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { RuleSet } from './rules.js';
import { watchRules } from './watchRules.js';

const RULE = (severity: string) => `
- rule: Admin scope used
  kind: out_of_scope
  desc: d
  condition: event.type == "token.used" && event.request_scope.startsWith("admin:")
  severity: ${severity}
`;

function next<T>(register: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve) => register(resolve));
}

describe('watchRules()', () => {
  it('reloads on change and keeps the old rules when an edit is broken', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'choir-rules-'));
    await writeFile(join(dir, 'privilege.yaml'), RULE('low'));
    let onChange: (rules: RuleSet) => void = () => {};
    let onError: (error: Error) => void = () => {};
    const watcher = watchRules(dir, (rules) => onChange(rules), {
      logger: pino({ level: 'silent' }),
      debounceMs: 20,
      onError: (error) => onError(error),
    });
    try {
      const changed = next<RuleSet>((resolve) => {
        onChange = resolve;
      });
      await writeFile(join(dir, 'privilege.yaml'), RULE('high'));
      expect((await changed).rules[0]?.severity).toBe('high');

      const failed = next<Error>((resolve) => {
        onError = resolve;
      });
      await writeFile(join(dir, 'privilege.yaml'), RULE('urgent'));
      expect((await failed).message).toMatch(
        /privilege\.yaml: rule "Admin scope used": "severity" must be one of/,
      );
    } finally {
      watcher.close();
    }
  });
});
