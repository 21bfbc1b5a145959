import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exited, runChoir, spawnChoir } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'choir-demo-'));
const env = {
  CHOIR_DATA_DIR: join(dir, 'data'),
  CHOIR_HTTP_PORT: '0',
  CHOIR_LOG_LEVEL: 'warn',
  CHOIR_FINGERPRINT_KEY: 'demo-test',
};

describe('choir demo', () => {
  it('stores a generated world, raises alerts while it runs, and stops cleanly on SIGTERM', async () => {
    const child = spawnChoir(['demo', '--tokens', '40'], env);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    try {
      const deadline = Date.now() + 150_000;
      while (!/\n {2}alert /.test(stderr) && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(stderr, stderr).toMatch(/choir demo is running/);
      expect(stderr, stderr).toMatch(/\n {2}alert /);
    } finally {
      // Also on failure: a demo left running would hold its data directory and a core.
      child.kill('SIGTERM');
    }
    expect(await exited(child), stderr).toBe(0);
    expect(stderr).toMatch(/stopped with \d+ events stored/);

    const counts = runChoir(
      [
        'sql',
        "SELECT (SELECT count() FROM choir.token_events WHERE ingest_source = 'demo') AS events, (SELECT count() FROM choir.alerts FINAL) AS alerts",
      ],
      env,
    );
    expect(counts.code, counts.stderr).toBe(0);
    const { events, alerts } = JSON.parse(counts.stdout) as { events: number; alerts: number };
    expect(events).toBeGreaterThan(10_000);
    expect(alerts).toBeGreaterThan(0);
    const list = runChoir(['alerts', 'list', '--json'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n').length).toBe(alerts);
  });

  it('refuses a data directory that holds something other than an earlier demo', () => {
    const other = mkdtempSync(join(tmpdir(), 'choir-not-demo-'));
    runChoir(['migrate'], { ...env, CHOIR_DATA_DIR: other });
    const r = runChoir(['demo'], { ...env, CHOIR_DATA_DIR: other });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/holds other data/);
  });
});
