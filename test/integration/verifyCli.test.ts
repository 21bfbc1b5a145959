import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChoir } from '../support/cli.js';
import { makeLine } from '../support/generate.js';

const dir = mkdtempSync(join(tmpdir(), 'choir-verify-'));
const config = join(dir, 'choir.yaml');
writeFileSync(config, 'ingest:\n  batch_rows: 500\nstorage:\n  writer_id: cli-writer\n');
const env = {
  CHOIR_DATA_DIR: join(dir, 'data'),
  CHOIR_LOG_LEVEL: 'warn',
  CHOIR_FINGERPRINT_KEY: 'verify-test',
};

/** Direct SQL on the data directory, behind Choir's back, from a process of its own (chDB locks the directory). */
function tamper(sql: string): void {
  const script = `
    import { createClickHouseStore } from './src/store/clickhouseStore.ts';
    const store = createClickHouseStore({ clickhouse_url: null, data_dir: ${JSON.stringify(env.CHOIR_DATA_DIR)},
      database: 'choir', username: 'default', password: '', retention_days: 0, writer_id: 'x' });
    await store.command(${JSON.stringify(sql)});
    await store.close();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
}

describe('choir verify', () => {
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, `${Array.from({ length: 3_000 }, (_, i) => makeLine(i, 100).line).join('\n')}\n`);

  it('exits 0 and says INTACT for a log written by Choir', () => {
    const ingest = runChoir(['ingest', file, '--config', config], env);
    expect(ingest.code, ingest.stderr).toBe(0);
    const r = runChoir(['verify', '--config', config], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/token_events\s+chain cli-writer\s+batches 1–\d+\s+2,970 rows\s+intact/);
    expect(r.stdout).toMatch(/verified 3,000 rows in \d+ batches.*: INTACT/);
  });

  it('prints the report as JSON with --json', () => {
    const r = runChoir(['verify', '--config', config, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ intact: true, rows: 3_000, problems: [], first_broken: null });
    expect(report.chains.map((c: { table: string }) => c.table).sort()).toEqual([
      'dead_letters',
      'token_events',
    ]);
  });

  it('exits 1 and names the batch, the kind and the row after a row is changed', () => {
    tamper(
      "ALTER TABLE choir.token_events UPDATE principal = 'mallory' WHERE id = 'evt-1500' SETTINGS mutations_sync = 2",
    );
    const r = runChoir(['verify', '--config', config], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/TAMPERED, 1 problem/);
    expect(r.stdout).toMatch(
      /token_events chain cli-writer batch \d+: changed — 1 row changed \(ids: evt-1500\)/,
    );
    expect(r.stdout).toMatch(/first broken: token_events chain cli-writer batch \d+ \(changed\)/);
    const json = JSON.parse(runChoir(['verify', '--config', config, '--json'], env).stdout);
    expect(json.first_broken).toMatchObject({ kind: 'changed', chain_id: 'cli-writer', ids: ['evt-1500'] });
  });

  it('refuses a --from that is not a time', () => {
    const r = runChoir(['verify', '--from', 'yesterday'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from must be an RFC 3339 time');
  });
});
