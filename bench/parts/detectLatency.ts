import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { createIsoFormatter } from '../../src/demo/isoTime.js';
import { createWorld } from '../../src/demo/world.js';
import { openStore, serve } from '../../src/index.js';
import type { Store } from '../../src/store/store.js';
import { BROKERS, benchConfig, uniqueName } from '../benchConfig.js';
import { log, round } from '../measure.js';

const PARTITIONS = 6;
const TICK_MS = 10;
const SEND_CHUNK = 500;
/** unknown_token waits `grace` (1 min) for a late issuance by design: its delay is not latency. */
const BY_DESIGN_DELAYED = new Set(['unknown_token']);

/**
 * (d): `serve()` with Kafka and detection on; a paced producer sends a generated world at
 * `rate` events/s, each event stamped with the time it is produced. Latency of an alert is
 * from the send of the event that opened it (its first evidence) to the moment the insert
 * that first stored it returned.
 */
export async function detectLatency(o: {
  rate: number;
  seconds: number;
  dataDir: string;
  latenessMs: number;
}) {
  const topic = uniqueName('choir-detect');
  await createTopic(topic);
  const config = benchConfig({
    dataDir: o.dataDir,
    database: `lat_${o.latenessMs}`,
    topic,
    groupId: uniqueName('g'),
  });
  config.detect.allowed_lateness_ms = o.latenessMs;
  config.detect.rules_dir = resolve('rules');
  const logger = pino({ level: 'warn' });
  const stored = new Map<string, { at: number; kind: string; evidence: string }>();
  const storedAt = new Map<string, number>();
  const store = watchAlertInserts(await openStore(config, logger), stored, storedAt);
  const running = await serve(config, logger, { store });

  const now = Date.now();
  const world = createWorld({
    seed: 21,
    start: now,
    days: 1,
    tokens: 20_000,
    eventsPerDay: o.rate * 86_400,
    quick: true,
    incidentTimes: Array.from({ length: Math.floor(o.seconds * 2) }, (_, i) => now + 2_000 + i * 250),
    scheduledIncidents: false,
  });
  const events = world.events();
  const sentAt = new Map<string, number>();
  const producer = new Kafka({
    clientId: 'choir-bench-latency',
    brokers: BROKERS,
    logLevel: logLevel.WARN,
  }).producer();
  await producer.connect();
  const iso = createIsoFormatter();
  const sends: Promise<unknown>[] = [];
  const began = Date.now();
  let produced = 0;
  while (Date.now() - began < o.seconds * 1000) {
    const due = Math.floor(((Date.now() - began) / 1000) * o.rate);
    const messages: { key: string; value: string }[] = [];
    const at = Date.now();
    for (; produced < due; produced++) {
      const e = events.next().value;
      if (!e) break;
      // Event time = produce time (the world's order kept): detection sees a live stream.
      e.time = iso(began + (produced * 1000) / o.rate);
      sentAt.set(e.id, at);
      messages.push({ key: e.token?.id ?? e.principal ?? '', value: JSON.stringify(e) });
    }
    // Bounded requests: after a stall of the event loop one tick may owe thousands of events.
    for (let i = 0; i < messages.length; i += SEND_CHUNK)
      sends.push(producer.send({ topic, acks: -1, messages: messages.slice(i, i + SEND_CHUNK) }));
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await Promise.all(sends);
  const produceSeconds = (Date.now() - began) / 1000;
  await producer.disconnect();
  log(`latency: produced ${produced} in ${produceSeconds.toFixed(1)} s; draining`);
  await new Promise((r) => setTimeout(r, 20_000));
  const storedEvents = (
    await store.query<{ n: number }>(`SELECT count() AS n FROM ${store.database}.token_events`)
  )[0]?.n;
  const live = [...stored.values()];
  await running.stop();
  await store.close();

  const latencies = new Map<string, number[]>();
  // The two halves of each latency: send to stored (Kafka + ingest), stored to alert stored (detection).
  const ingestMs: number[] = [];
  const detectMs: number[] = [];
  for (const a of live) {
    const sent = sentAt.get(a.evidence);
    if (sent === undefined) continue;
    const list = latencies.get(a.kind) ?? [];
    list.push(a.at - sent);
    latencies.set(a.kind, list);
    const at = storedAt.get(a.evidence);
    if (at !== undefined && !BY_DESIGN_DELAYED.has(a.kind)) {
      ingestMs.push(at - sent);
      detectMs.push(a.at - at);
    }
  }
  const measured = [...latencies].filter(([k]) => !BY_DESIGN_DELAYED.has(k)).flatMap(([, l]) => l);
  return {
    allowed_lateness_ms: o.latenessMs,
    target_events_per_s: o.rate,
    produced,
    produce_events_per_s: Math.round(produced / produceSeconds),
    stored_events_after_drain: Number(storedEvents),
    alerts_measured: measured.length,
    p50_ms: percentile(measured, 0.5),
    p99_ms: percentile(measured, 0.99),
    max_ms: percentile(measured, 1),
    ingest_p50_ms: percentile(ingestMs, 0.5),
    ingest_p99_ms: percentile(ingestMs, 0.99),
    detect_p50_ms: percentile(detectMs, 0.5),
    detect_p99_ms: percentile(detectMs, 0.99),
    by_kind: Object.fromEntries(
      [...latencies].map(([k, l]) => [
        k,
        { n: l.length, p50_ms: percentile(l, 0.5), p99_ms: percentile(l, 0.99) },
      ]),
    ),
    excluded: [...BY_DESIGN_DELAYED],
  };
}

/** The store, with every insert into the alerts table timed: when it returned, which alerts it held first. */
function watchAlertInserts(
  store: Store,
  stored: Map<string, { at: number; kind: string; evidence: string }>,
  storedAt: Map<string, number>,
): Store {
  const row = /"id":"([0-9a-f]+)","kind":"([^"]+)".*?"evidence":\["([^"]*)"/g;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'insertEvents') {
        return async (...args: Parameters<Store['insertEvents']>) => {
          const [rows] = args;
          await target.insertEvents(...args);
          const at = Date.now();
          for (const r of rows) storedAt.set(r.id, at);
        };
      }
      if (prop !== 'command') return Reflect.get(target, prop, receiver);
      return async (sql: string, params?: Record<string, unknown>) => {
        await target.command(sql, params);
        if (!sql.startsWith(`INSERT INTO ${target.database}.alerts`)) return;
        const at = Date.now();
        for (const m of sql.matchAll(row)) {
          const [, id, kind, evidence] = m as unknown as [string, string, string, string];
          if (!stored.has(id)) stored.set(id, { at, kind, evidence });
        }
      };
    },
  });
}

function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number, 0);
}

async function createTopic(topic: string): Promise<void> {
  const admin = new Kafka({
    clientId: 'choir-bench-admin',
    brokers: BROKERS,
    logLevel: logLevel.WARN,
  }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}
