import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChoir } from '../support/cli.js';
import { makeLine } from '../support/generate.js';

const dir = mkdtempSync(join(tmpdir(), 'choir-file-'));
const env = {
  CHOIR_DATA_DIR: join(dir, 'data'),
  CHOIR_LOG_LEVEL: 'warn',
  CHOIR_FINGERPRINT_KEY: 'file-test',
};

describe('choir ingest FILE|-', () => {
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, `${Array.from({ length: 5_000 }, (_, i) => makeLine(i, 50).line).join('\n')}\n`);

  it('stores a file, dead-letters the bad lines and prints a summary', () => {
    const r = runChoir(['ingest', file, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      read: 5_000,
      stored: 4_900,
      duplicates: 0,
      deadLettered: 100,
      ignored: 0,
    });
  });

  it('leaves every count unchanged when the same file is ingested again', () => {
    const r = runChoir(['ingest', file, '--json'], env);
    expect(JSON.parse(r.stdout)).toMatchObject({
      read: 5_000,
      stored: 0,
      duplicates: 4_900,
      deadLettered: 0,
    });
    const counts = runChoir(
      [
        'sql',
        'SELECT (SELECT count() FROM choir.token_events) AS events, (SELECT count() FROM choir.dead_letters) AS dead',
      ],
      env,
    );
    expect(JSON.parse(counts.stdout)).toEqual({ events: 4900, dead: 100 });
  });

  it('reads stdin with -', () => {
    const r = runChoir(['ingest', '-'], env, `${makeLine(90_001).line}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^read 1, stored 1, already stored 0, dead-lettered 0, ignored 0/);
  });

  it('reads a pretty-printed audit document with --format and reports ignored records', () => {
    const k8s = join(dir, 'sa-delete.json');
    const record = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: 'a1b2',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/ci/serviceaccounts/builder',
      verb: 'delete',
      user: { username: 'alice', groups: ['system:authenticated'] },
      sourceIPs: ['192.0.2.10'],
      objectRef: { resource: 'serviceaccounts', namespace: 'ci', name: 'builder', apiVersion: 'v1' },
      responseStatus: { code: 200 },
      requestReceivedTimestamp: '2026-02-01T10:00:00.000000Z',
      stageTimestamp: '2026-02-01T10:00:00.010000Z',
    };
    writeFileSync(
      k8s,
      JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [record] }, null, 2),
    );
    const r = runChoir(['ingest', k8s, '--format', 'k8s-audit', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: 1, stored: 1 });
    const row = runChoir(
      ['sql', "SELECT type, principal FROM choir.token_events WHERE type = 'principal.disabled'"],
      env,
    );
    expect(JSON.parse(row.stdout)).toEqual({
      type: 'principal.disabled',
      principal: 'system:serviceaccount:ci:builder',
    });
  });

  it('stops with a message naming the key when the config is invalid', () => {
    const r = runChoir(['ingest', file], { ...env, CHOIR_HTTP_PORT: 'eighty' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('"http.port" must be a whole number from 0 to 65535, got "eighty"');
  });

  it('refuses to modify the log through choir sql', () => {
    const r = runChoir(['sql', 'ALTER TABLE choir.token_events DELETE WHERE 1'], env);
    expect(r.code).toBe(1);
    const counts = runChoir(['sql', 'SELECT count() AS n FROM choir.token_events'], env);
    expect(JSON.parse(counts.stdout).n).toBeGreaterThan(0);
  });
});
