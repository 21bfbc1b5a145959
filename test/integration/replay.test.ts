import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey } from '../../src/api/auth.js';
import { issued, used } from '../../src/detect/eventBuilders.js';
import { expandFixtureEvents } from '../../src/detect/fixtureEvent.js';
import type { Alert } from '../../src/detect/index.js';
import type { StoredEvent } from '../../src/events/contract.js';
import { openStore, type Running, serve } from '../../src/index.js';
import { createAlertStore } from '../../src/store/alertStore.js';
import type { Store } from '../../src/store/store.js';
import { alertEssentials } from '../support/alerts.js';
import { runChoir } from '../support/cli.js';
import { incidentWorld, interleave, lineOf } from '../support/incidents.js';
import { testConfig, testLogger } from '../support/store.js';

const DAY = 86_400_000;
/** Generous, so the reordering below (events up to half a day apart) stays within it. */
const LATENESS = 2 * DAY;
const FINGERPRINT_KEY = 'test-fingerprint-key';
/** Scheduled (SQL) detectors once per day of event time: hourly would be 200 runs per pass here. */
const DETECT = { allowed_lateness_ms: LATENESS, scheduled_every_ms: DAY };

const essentials = alertEssentials;

/** Serve over HTTP on `store`, post `batches` in order, stop (detection finishes), return the stored alerts. */
async function serveAndPost(
  store: Store,
  overrides: Record<string, unknown>,
  batches: StoredEvent[][],
): Promise<Alert[]> {
  const key = newApiKey();
  const config = testConfig({
    ...overrides,
    storage: { database: store.database },
    http: { enabled: true, port: 0, api_keys: [{ name: 'it', hash: key.hash, scopes: ['ingest'] }] },
  });
  const running: Running = await serve(config, testLogger(), { store });
  try {
    for (const batch of batches) {
      const res = await fetch(`${running.apiUrl}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/x-ndjson' },
        body: batch.map(lineOf).join('\n'),
      });
      expect(res.status, await res.text()).toBe(202);
    }
  } finally {
    await running.stop();
  }
  return createAlertStore(store).list();
}

describe('live detection and `choir replay` of the same events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'choir-replay-'));
  const world = incidentWorld();
  let store: Store;

  beforeAll(async () => {
    store = await openStore(testConfig(), testLogger());
  });
  afterAll(async () => {
    await store?.close();
  });

  it('give identical alerts, ids, counts, times and evidence included', async () => {
    // Live: out of order, as several partitions deliver, in many requests.
    const shuffled = interleave(world, 3);
    const batches: StoredEvent[][] = [];
    for (let i = 0; i < shuffled.length; i += 7) batches.push(shuffled.slice(i, i + 7));
    const live = await serveAndPost(store, { detect: DETECT }, batches);
    expect(new Set(live.map((a) => a.kind))).toEqual(
      new Set([
        'out_of_scope',
        'use_after_revoke',
        'use_after_expiry',
        'unknown_token',
        'source_outside_allowlist',
        'concurrent_sources',
        'orphaned_token',
        'new_source',
        // scheduled: tokens issued without an expiry, found by SQL at each day of event time
        'no_expiry',
      ]),
    );

    // Replay: the file in log order, on a fresh store of its own.
    const file = join(dir, 'world.ndjson');
    writeFileSync(file, `${world.map(lineOf).join('\n')}\n`);
    const configFile = join(dir, 'choir.yaml');
    writeFileSync(configFile, `detect:\n  allowed_lateness_ms: ${LATENESS}\n  scheduled_every_ms: ${DAY}\n`);
    const userData = join(dir, 'user-data');
    const r = runChoir(['replay', file, '--config', configFile], {
      CHOIR_DATA_DIR: userData,
      CHOIR_LOG_LEVEL: 'warn',
      CHOIR_FINGERPRINT_KEY: FINGERPRINT_KEY,
    });
    expect(r.code, r.stderr).toBe(0);
    const replayed = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(replayed.map(essentials)).toEqual(live.map(essentials));
    // Sorted by first_seen, then id; the user's data directory was never touched.
    const order = replayed.map((a) => [a.first_seen, a.id].join(' '));
    expect(order).toEqual([...order].sort());
    expect(existsSync(userData)).toBe(false);
  });

  it('replays stdin with -', () => {
    const r = runChoir(
      ['replay', '-'],
      { CHOIR_LOG_LEVEL: 'warn', CHOIR_DATA_DIR: join(dir, 'x') },
      `${world.slice(0, 6).map(lineOf).join('\n')}\n`,
    );
    expect(r.code, r.stderr).toBe(0);
    const kinds = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).kind);
    expect(kinds.filter((k) => k !== 'no_expiry')).toEqual(['out_of_scope']);
  });
});

describe('a restarted `choir serve`', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore(testConfig(), testLogger());
  });
  afterAll(async () => {
    await store?.close();
  });

  it('rebuilds detector state from the log and does not alert on known tokens and sources', async () => {
    const start = Date.UTC(2026, 4, 1);
    // Ten days of routine: two tokens, each from its usual networks.
    const history = expandFixtureEvents(
      [
        issued('tok-a', { principal: 'sa-a', scopes: ['projects:read'], expires_at: '+90d' }),
        issued('tok-b', { principal: 'sa-b', scopes: ['projects:read'], expires_at: '+90d' }),
        used('1m', 'tok-a', { source_ip: '10.1.0.5' }, { repeat: { count: 20, every: '12h' } }),
        used('2m', 'tok-a', { source_ip: '10.2.0.7' }, { repeat: { count: 20, every: '12h' } }),
        used('3m', 'tok-b', { source_ip: '10.9.0.1' }, { repeat: { count: 20, every: '12h' } }),
      ],
      start,
    );
    // Issuances lie before the rebuild window (5 days): their facts are seeded, not learned.
    const overrides = { detect: { allowed_lateness_ms: 10_000, rebuild_days: 5, scheduled_every_ms: DAY } };
    expect(await serveAndPost(store, overrides, [history])).toEqual([]);

    const later = expandFixtureEvents(
      [
        used('13d', 'tok-a', { source_ip: '10.1.0.9' }, { id: 'later-known-a' }),
        used('13d1m', 'tok-b', { source_ip: '10.9.0.2' }, { id: 'later-known-b' }),
        used('13d2m', 'tok-a', { source_ip: '203.0.113.9' }, { id: 'later-new-net' }),
        used('13d3m', 'tok-b', { scope: 'projects:write', source_ip: '10.9.0.1' }, { id: 'later-write' }),
      ],
      start,
    );
    const alerts = await serveAndPost(store, overrides, [later]);
    // Known sources stay quiet; tokens issued before the window are known (no unknown_token),
    // the learning period carried over (the new network alerts), and so did granted scopes.
    expect(alerts.map((a) => [a.kind, a.token_id, a.evidence])).toEqual([
      ['new_source', 'tok-a', ['later-new-net']],
      ['out_of_scope', 'tok-b', ['later-write']],
    ]);
  });
});
