import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey } from '../../src/api/auth.js';
import { openStore, type Running, serve } from '../../src/index.js';
import type { Store } from '../../src/store/store.js';
import { makeEvent } from '../support/generate.js';
import { testConfig, testLogger } from '../support/store.js';

describe('POST /v1/events (real HTTP server, real chDB)', () => {
  const ingest = newApiKey();
  const reader = newApiKey();
  const config = testConfig({
    http: {
      enabled: true,
      port: 0,
      max_body_bytes: 64 * 1024,
      api_keys: [
        { name: 'producer', hash: ingest.hash, scopes: ['ingest'] },
        { name: 'dashboard', hash: reader.hash, scopes: ['read'] },
      ],
    },
  });
  let store: Store;
  let running: Running;

  beforeAll(async () => {
    store = await openStore(config, testLogger());
    running = await serve(config, testLogger(), { store });
  });
  afterAll(async () => {
    await running?.stop();
    await store?.close();
  });

  const post = (body: string, key?: string, contentType = 'application/x-ndjson') =>
    fetch(`${running.apiUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body,
    });
  const count = async (where = '1') =>
    Number(
      (
        await store.query<{ n: string }>(
          `SELECT count() AS n FROM ${store.database}.token_events WHERE ${where}`,
        )
      )[0]!.n,
    );
  const ndjson = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => JSON.stringify(makeEvent(from + i))).join('\n');

  it('refuses a request without a key, with a wrong key, and with a key lacking the ingest scope', async () => {
    const body = ndjson(0, 3);
    const none = await post(body);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.json()).toEqual({ error: 'unauthorized' });
    const wrong = await post(body, 'choir_not-a-real-key');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'unauthorized' });
    const noScope = await post(body, reader.key);
    expect(noScope.status).toBe(403);
    expect(await noScope.json()).toEqual({ error: 'forbidden' });
    expect(await count()).toBe(0);
  });

  it('answers 202 once NDJSON events are stored, and stores a resend once', async () => {
    const res = await post(ndjson(0, 50), ingest.key);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ stored: 50, duplicates: 0, ignored: 0 });
    expect(await count("ingest_source = 'http'")).toBe(50);
    const again = await post(ndjson(0, 50), ingest.key);
    expect(await again.json()).toEqual({ stored: 0, duplicates: 50, ignored: 0 });
    expect(await count()).toBe(50);
  });

  it('accepts a JSON array and a single pretty-printed object', async () => {
    const arr = await post(JSON.stringify([makeEvent(100), makeEvent(101)]), ingest.key, 'application/json');
    expect(arr.status).toBe(202);
    const one = await post(JSON.stringify(makeEvent(102), null, 2), ingest.key, 'application/json');
    expect(one.status).toBe(202);
    expect(await count("id IN ('evt-100','evt-101','evt-102')")).toBe(3);
  });

  it('answers 400 listing each rejected line and why, and keeps the others', async () => {
    const lines = [
      JSON.stringify(makeEvent(200)),
      '{"id": broken',
      JSON.stringify({ ...makeEvent(201), time: 'noon' }),
      JSON.stringify(makeEvent(202)),
    ];
    const res = await post(lines.join('\n'), ingest.key);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.stored).toBe(2);
    expect(body.rejected).toEqual([
      { line: 2, reason: expect.stringMatching(/^not valid JSON/) },
      { line: 3, reason: expect.stringMatching(/^"time" must be an RFC 3339 time/) },
    ]);
    expect(await count("id IN ('evt-200','evt-202')")).toBe(2);
    const dead = await store.query<{ offset: number; source: string }>(
      `SELECT offset, source FROM ${store.database}.dead_letters WHERE source = 'http' ORDER BY offset`,
    );
    expect(dead).toEqual([
      { offset: 2, source: 'http' },
      { offset: 3, source: 'http' },
    ]);
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await post('x'.repeat(70 * 1024), ingest.key);
    expect(res.status).toBe(413);
  });

  it('maps a foreign audit format chosen with ?format=', async () => {
    const res = await fetch(`${running.apiUrl}/v1/events?format=nope`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingest.key}` },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'unknown format "nope"' });
  });
});
