import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alert, alertId } from '../../src/detect/alert.js';
import { issued, revoked, used } from '../../src/detect/eventBuilders.js';
import { expandFixtureEvents, type FixtureEvent } from '../../src/detect/fixtureEvent.js';
import { openStore } from '../../src/index.js';
import { createAlertStore } from '../../src/store/alertStore.js';
import { tokenInventory } from '../../src/store/inventory.js';
import type { Store } from '../../src/store/store.js';
import { runChoir } from '../support/cli.js';
import { testConfig, testLogger } from '../support/store.js';

const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);
const AS_OF = START + 10 * DAY;

const EVENTS: FixtureEvent[] = [
  issued('inv-a', { scopes: ['projects:read', 'builds:*', 'admin:write'] }),
  used('1d', 'inv-a', { scope: 'projects:read', source_ip: '10.0.0.1' }),
  used('2d', 'inv-a', { scope: 'builds:write', source_ip: '10.0.0.2' }),
  used('3d', 'inv-a', { scope: 'builds:read', source_ip: '10.0.0.2' }),
  used('20d', 'inv-a', { scope: 'admin:write', source_ip: '10.0.0.3' }),
  issued('inv-exp', { expires_at: '+1d' }),
  issued('inv-rev'),
  revoked('2d', 'inv-rev'),
  issued('inv-alice', { kind: 'user', principal: 'alice', scopes: ['repo:read'] }),
  used('1d', 'inv-unknown'),
];

const rowsOf = (events: FixtureEvent[]) =>
  expandFixtureEvents(events, START).map((e) => ({
    ...e,
    ingest_source: 'test',
    ingest_partition: 0,
    ingest_offset: -1,
    ingested_at: e.time,
  }));

function alert(token: string, rule: string, status: Alert['status']): Alert {
  return {
    id: alertId(rule, token, START),
    kind: 'stale_unused',
    rule,
    severity: 'low',
    token_id: token,
    principal: 'sa-ci',
    tenant: '',
    first_seen: START,
    last_seen: START,
    count: 1,
    evidence: [],
    summary: 'test',
    status,
    tags: [],
    response: { confirm: 'manual', revoke: false },
    details: { source_ips: [], user_agents: [], scopes: [], statuses: [], context: {} },
  };
}

describe('tokenInventory()', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(testConfig(), testLogger());
    await store.insertEvents(rowsOf(EVENTS), 'tokens-test');
    const alerts = createAlertStore(store);
    await alerts.save([
      alert('inv-a', 'r1', 'open'),
      alert('inv-a', 'r2', 'open'),
      alert('inv-rev', 'r1', 'open'),
    ]);
    // A later state of the same alert wins: dismissed, it no longer counts as open.
    await alerts.save([alert('inv-a', 'r3', 'open')]);
    await alerts.save([alert('inv-a', 'r3', 'dismissed')]);
  });
  afterAll(() => store?.close());

  it('lists every token with its status as of a time', async () => {
    const byId = new Map((await tokenInventory(store, { asOf: AS_OF })).map((t) => [t.token_id, t]));
    expect(Object.fromEntries([...byId].map(([id, t]) => [id, t.status]))).toEqual({
      'inv-a': 'active',
      'inv-exp': 'expired',
      'inv-rev': 'revoked',
      'inv-alice': 'active',
      'inv-unknown': 'unknown',
    });
    const early = await tokenInventory(store, { asOf: START + DAY / 2 });
    expect(early.find((t) => t.token_id === 'inv-exp')?.status).toBe('active');
    expect(early.find((t) => t.token_id === 'inv-rev')?.status).toBe('active');
  });

  it('shows scopes used versus granted, uses and distinct sources, counting only up to as-of', async () => {
    const [a] = (await tokenInventory(store, { asOf: AS_OF })).filter((t) => t.token_id === 'inv-a');
    expect(a).toMatchObject({
      kind: 'service_account',
      principal: 'sa-ci',
      scopes: ['projects:read', 'builds:*', 'admin:write'],
      used_scopes: ['builds:read', 'builds:write', 'projects:read'],
      unused_scopes: ['admin:write'],
      uses: 3,
      sources: 2,
      issued_at: START,
      last_used_at: START + 3 * DAY,
      expires_at: null,
    });
    const [later] = (await tokenInventory(store, { asOf: START + 30 * DAY })).filter(
      (t) => t.token_id === 'inv-a',
    );
    expect(later).toMatchObject({ unused_scopes: [], uses: 4, sources: 3 });
  });

  it('counts open alerts per token', async () => {
    const counts = Object.fromEntries(
      (await tokenInventory(store, { asOf: AS_OF })).map((t) => [t.token_id, t.open_alerts]),
    );
    expect(counts).toMatchObject({ 'inv-a': 2, 'inv-rev': 1, 'inv-exp': 0 });
  });

  it('filters by status and principal', async () => {
    const ids = async (f: { status?: 'active' | 'revoked'; principal?: string }) =>
      (await tokenInventory(store, { asOf: AS_OF, ...f })).map((t) => t.token_id).sort();
    expect(await ids({ status: 'active' })).toEqual(['inv-a', 'inv-alice']);
    expect(await ids({ principal: 'alice' })).toEqual(['inv-alice']);
    expect(await ids({ status: 'revoked', principal: 'alice' })).toEqual([]);
  });
});

describe('choir tokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'choir-tokens-'));
  const env = {
    CHOIR_DATA_DIR: join(dir, 'data'),
    CHOIR_LOG_LEVEL: 'warn',
    CHOIR_FINGERPRINT_KEY: 'tokens-test',
  };
  const asOf = ['--as-of', new Date(AS_OF).toISOString()];

  beforeAll(() => {
    const file = join(dir, 'events.ndjson');
    writeFileSync(
      file,
      `${rowsOf(EVENTS)
        .map((e) => e.raw)
        .join('\n')}\n`,
    );
    const r = runChoir(['ingest', file], env);
    expect(r.code, r.stderr).toBe(0);
  });

  it('prints one JSON object per token with --json', () => {
    const r = runChoir(['tokens', '--json', ...asOf], env);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    expect(lines.find((t) => t.token_id === 'inv-a')).toMatchObject({
      status: 'active',
      issued_at: '2024-01-01T00:00:00.000Z',
      last_used_at: '2024-01-04T00:00:00.000Z',
      expires_at: null,
      unused_scopes: ['admin:write'],
      sources: 2,
      open_alerts: 0,
    });
  });

  it('filters with --status and --principal', () => {
    const ids = (args: string[]) =>
      runChoir(['tokens', '--json', ...asOf, ...args], env)
        .stdout.trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).token_id);
    expect(ids(['--status', 'revoked'])).toEqual(['inv-rev']);
    expect(ids(['--principal', 'alice'])).toEqual(['inv-alice']);
  });

  it('prints an aligned table with totals, and refuses an unknown status', () => {
    const r = runChoir(['tokens', ...asOf], env);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TOKEN\s+KIND\s+PRINCIPAL\s+STATUS\s+ISSUED/);
    const a = lines.find((l) => l.startsWith('inv-a '))!;
    expect(a).toMatch(
      /inv-a\s+service_account\s+sa-ci\s+active\s+2024-01-01\s+never\s+2024-01-04\s+3\s+2\s+2\/3\s+admin:write\s+0$/,
    );
    // Aligned: every row's STATUS column starts where the header's does.
    const col = lines[0]!.indexOf('STATUS');
    for (const line of lines.slice(1, 6))
      expect(line.slice(col)).toMatch(/^(active|expired|revoked|unknown) /);
    expect(lines.at(-1)).toBe(
      '5 tokens: 2 active, 1 expired, 1 revoked, 1 unknown; 4 with unused scopes, 0 with open alerts',
    );
    const bad = runChoir(['tokens', '--status', 'stale'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--status must be one of active, expired, revoked, unknown, got "stale"/);
  });
});
