import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newApiKey } from '../../src/api/auth.js';
import { loadConfig } from '../../src/config/config.js';
import { used } from '../../src/detect/eventBuilders.js';
import { expandFixtureEvents } from '../../src/detect/fixtureEvent.js';
import type { Alert } from '../../src/detect/index.js';
import type { StoredEvent } from '../../src/events/contract.js';
import { createAlertStore } from '../../src/store/alertStore.js';
import { createClickHouseStore } from '../../src/store/clickhouseStore.js';
import { alertEssentials } from '../support/alerts.js';
import { exited, runChoir, spawnChoir } from '../support/cli.js';
import { incidentWorld, lineOf } from '../support/incidents.js';
import { waitFor } from '../support/store.js';

const START = Date.UTC(2026, 2, 1);

/**
 * The incident world, then a last half minute that the reorder buffer (10 s lateness) still
 * holds in part when the process is killed: repeats of an out_of_scope alert opened before the
 * kill, and stateful alerts (concurrent_sources, new_source) on events the engine never saw.
 */
function world(): StoredEvent[] {
  const tail = expandFixtureEvents(
    [
      used('9d1h', 'tok-read', { scope: 'projects:write' }, { id: 't1', repeat: { count: 10, every: '3s' } }),
      used('9d1h20s', 'tok-shared', { source_ip: '10.3.0.1' }, { id: 't2' }),
      used('9d1h22s', 'tok-shared', { source_ip: '172.16.4.1' }, { id: 't3' }),
      used('9d1h24s', 'tok-shared', { source_ip: '192.168.9.1' }, { id: 't4' }),
      used('9d1h25s', 'tok-build', { scope: 'builds:read', source_ip: '198.18.0.9' }, { id: 't5' }),
      used('9d1h30s', 'tok-build', { scope: 'builds:read', source_ip: '10.1.0.5' }, { id: 't6' }),
    ],
    START,
  );
  return [...incidentWorld(START), ...tail];
}

/** A restart must also keep each alert's status. */
const essentials = (a: Alert | Record<string, unknown>) => ({ ...alertEssentials(a), status: a.status });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function started(child: ChildProcess, url: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  await waitFor(
    `choir serve at ${url} (stderr: ${stderr.slice(-500)})`,
    () =>
      fetch(`${url}/healthz`).then(
        (r) => r.status,
        () => 0,
      ),
    (s) => s === 200,
    60_000,
  );
}

describe('`choir serve` killed with SIGKILL while events wait in the reorder buffer', () => {
  it('raises their alerts after a restart: the alerts `choir replay` gives, none counted twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'choir-restart-'));
    const events = world();
    const key = newApiKey();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const configFile = join(dir, 'choir.yaml');
    writeFileSync(
      configFile,
      [
        'http:',
        '  enabled: true',
        '  host: 127.0.0.1',
        `  port: ${port}`,
        '  api_keys:',
        `    - { name: it, hash: "${key.hash}", scopes: [ingest] }`,
        'detect:',
        // Long enough that the whole tail is still held when the process is killed.
        '  allowed_lateness_ms: 10000',
        '  scheduled_every_ms: 86400000',
        '',
      ].join('\n'),
    );
    const env = {
      CHOIR_DATA_DIR: join(dir, 'data'),
      CHOIR_LOG_LEVEL: 'warn',
      CHOIR_FINGERPRINT_KEY: 'restart-test',
      KAFKA_BROKERS: '',
    };

    const first = spawnChoir(['serve', '--config', configFile], env);
    try {
      await started(first, url);
      for (let i = 0; i < events.length; i += 20) {
        const res = await fetch(`${url}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/x-ndjson' },
          body: events
            .slice(i, i + 20)
            .map(lineOf)
            .join('\n'),
        });
        expect(res.status, await res.text()).toBe(202);
      }
      // Stored (202), early alerts and what the watermark passed saved; the last 10 s still held.
      await new Promise((r) => setTimeout(r, 2_000));
    } finally {
      first.kill('SIGKILL');
      await exited(first);
    }

    const second = spawnChoir(['serve', '--config', configFile], env);
    await started(second, url);
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);

    const store = createClickHouseStore(
      loadConfig({ overrides: { storage: { data_dir: env.CHOIR_DATA_DIR } } }).storage,
    );
    let live: Alert[];
    try {
      live = await createAlertStore(store).list();
    } finally {
      await store.close();
    }

    const file = join(dir, 'world.ndjson');
    writeFileSync(file, `${events.map(lineOf).join('\n')}\n`);
    const r = runChoir(['replay', file, '--config', configFile], { ...env, CHOIR_DATA_DIR: join(dir, 'x') });
    expect(r.code, r.stderr).toBe(0);
    const replayed = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The buffered events' alerts are there, and the repeats of the alert opened before the kill.
    const tail = replayed.filter(
      (a) => new Date(a.first_seen).getTime() >= START + 9 * 86_400_000 + 3_600_000,
    );
    expect(tail.map((a) => [a.kind, a.count]).sort()).toEqual([
      ['concurrent_sources', 1],
      ['new_source', 1],
      ['out_of_scope', 10],
    ]);
    expect(live.map(essentials)).toEqual(replayed.map(essentials));
  }, 180_000);
});
