import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evenIncidentTimes } from '../../src/demo/incidents.js';
import { DAY } from '../../src/demo/model.js';
import { createWorld } from '../../src/demo/world.js';
import type { Alert } from '../../src/detect/index.js';
import type { TokenEvent } from '../../src/events/contract.js';
import { openStore, serve } from '../../src/index.js';
import { createAlertStore } from '../../src/store/alertStore.js';
import type { Store } from '../../src/store/store.js';
import { alertEssentials } from '../support/alerts.js';
import { runChoir } from '../support/cli.js';
import { brokers, createTopic, offsets, produce, uniqueName } from '../support/kafka.js';
import { testConfig, testLogger, waitFor } from '../support/store.js';

const STATEFUL = ['new_source', 'concurrent_sources', 'request_spike', 'unknown_token'];

const essentials = alertEssentials;

/**
 * Ten days of a generated token world (~45,000 events) with incidents of every stream kind in the
 * last two, and a busy job's ~145,000 uses.
 */
function worldLines(): { lines: string[]; keys: string[] } {
  const start = Date.UTC(2026, 0, 5);
  const world = createWorld({
    seed: 11,
    start,
    days: 10,
    tokens: 60,
    eventsPerDay: 4_000,
    incidentTimes: evenIncidentTimes(start + 8 * DAY, start + 10 * DAY - 2 * 3_600_000, 30),
  });
  const lines: string[] = [];
  const keys: string[] = [];
  const add = (ev: TokenEvent) => {
    lines.push(JSON.stringify(ev));
    keys.push(ev.token?.id ?? ev.principal ?? ev.id);
  };
  // A busy job's token besides: its partition carries three times the others' traffic, so each
  // megabyte fetched from it spans a third of the event time, and it falls days behind the others.
  const busy = { id: 'tok-busy', kind: 'service_account', principal: 'sa-busy', scopes: ['jobs:*'] };
  add({ id: 'busy-0', type: 'token.issued', time: iso(start - DAY), token: busy });
  let n = 0;
  const every = 6_000;
  for (const ev of world.events()) {
    const t = Date.parse(ev.time);
    for (let next = start + n * every; next < t; next = start + ++n * every)
      add({
        id: `busy-${n + 1}`,
        type: 'token.used',
        time: iso(next),
        token: { id: busy.id, principal: busy.principal },
        request: { scope: 'jobs:run', source_ip: '10.77.0.1', user_agent: 'busy/1', status: 200 },
      });
    add(ev);
  }
  return { lines, keys };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('a consumer catching up on a 6-partition backlog', () => {
  const topic = uniqueName('choir-catchup');
  const groupId = uniqueName('choir-catchup-group');
  const detect = { scheduled_every_ms: DAY };
  const config = testConfig({ kafka: { brokers: brokers(), topics: [topic], group_id: groupId }, detect });
  const { lines, keys } = worldLines();
  let store: Store;

  beforeAll(async () => {
    await createTopic(topic, 6);
    // Keyed by token, as producers do: each partition holds all ten days of its tokens, and the
    // consumer reads them a megabyte per partition per fetch, days of event time apart.
    await produce(
      topic,
      lines.length,
      (i) => lines[i] as string,
      (i) => keys[i] as string,
    );
    store = await openStore(config, testLogger());
  });
  afterAll(async () => {
    await store?.close();
  });

  it('feeds detection in event-time order and raises the alerts `choir replay` raises', async () => {
    // The runner's closing line says how many events it had to take out of order.
    const logged: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
    const running = await serve(config, logger, { store });
    try {
      await waitFor(
        'the backlog committed',
        () => offsets(topic, groupId),
        (o) => o.committed.join() === o.end.join(),
      );
    } finally {
      await running.stop();
    }
    const live = await createAlertStore(store).list();
    const finished = logged.map((l) => JSON.parse(l)).find((l) => l.msg === 'detection finished');
    // A single global watermark took ~90,000 of them late here (the busy partition lags by days).
    expect(finished).toMatchObject({ events: lines.length, buffered_late: 0 });

    const dir = mkdtempSync(join(tmpdir(), 'choir-catchup-'));
    const file = join(dir, 'world.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const configFile = join(dir, 'choir.yaml');
    writeFileSync(configFile, `detect:\n  scheduled_every_ms: ${DAY}\n`);
    const r = runChoir(['replay', file, '--config', configFile], {
      CHOIR_DATA_DIR: join(dir, 'data'),
      CHOIR_LOG_LEVEL: 'warn',
      CHOIR_FINGERPRINT_KEY: config.security.fingerprint_key,
      KAFKA_BROKERS: '',
    });
    expect(r.code, r.stderr).toBe(0);
    const replayed = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

    const stateful = (alerts: Array<Alert | Record<string, unknown>>) =>
      alerts.filter((a) => STATEFUL.includes(a.kind as string)).map(essentials);
    expect(new Set(stateful(replayed).map((a) => a.kind))).toEqual(
      new Set(['new_source', 'concurrent_sources', 'request_spike', 'unknown_token']),
    );
    expect(stateful(live)).toEqual(stateful(replayed));
    // Every kind, the order-free ones too.
    expect(live.map(essentials)).toEqual(replayed.map(essentials));
  }, 240_000);
});
