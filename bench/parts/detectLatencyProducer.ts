import { createWriteStream } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { createIsoFormatter } from '../../src/demo/isoTime.js';
import { createWorld } from '../../src/demo/world.js';
import type { TokenEvent } from '../../src/events/contract.js';
import { BROKERS } from '../benchConfig.js';
import { log } from '../measure.js';

const TICK_MS = 10;
const SEND_CHUNK = 500;
/** Probe uses begin this long after the first send: their issuances are stored by then. */
const PROBES_AFTER_MS = 2_000;

/** Ids of probe events start with this: the parent tells probe alerts from the world's. */
export const PROBE_PREFIX = 'probe-';

export interface ProducerOptions {
  topic: string;
  rate: number;
  seconds: number;
  /** Probe uses per second (each a fresh token used beyond its scopes: one out_of_scope alert each). */
  probesPerSecond: number;
  /** Where the send time of every event goes, one `id<TAB>epoch ms` line each. */
  out: string;
}

/**
 * The latency bench's producer, in a process of its own as a real producer is: generating the
 * world, serialising and producing cost CPU and stall an event loop, and that must not count as
 * Choir's latency. Sends the generated world at `rate` events/s, each event's time being its
 * produce time, plus `probesPerSecond` probe alerts; records when each event was handed to kafkajs.
 */
export async function produceLatencyWorld(o: ProducerOptions): Promise<void> {
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
  const probes = probeEvents(Math.floor(o.seconds * o.probesPerSecond));
  const sentLog = createWriteStream(o.out);
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
  let probeUses = 0;
  let sent: string[] = [];
  while (Date.now() - began < o.seconds * 1000) {
    const elapsed = Date.now() - began;
    const due = Math.floor((elapsed / 1000) * o.rate);
    const messages: { key: string; value: string }[] = [];
    const at = Date.now();
    const stamp = (e: TokenEvent) => {
      // Event time = produce time (the world's order kept): detection sees a live stream.
      e.time = iso(began + (produced * 1000) / o.rate);
      sent.push(`${e.id}\t${at}\n`);
      messages.push({ key: e.token?.id ?? e.principal ?? '', value: JSON.stringify(e) });
    };
    if (produced === 0) for (const e of probes.issued) stamp(e);
    const probesDue = Math.floor((Math.max(0, elapsed - PROBES_AFTER_MS) / 1000) * o.probesPerSecond);
    for (; probeUses < Math.min(probesDue, probes.used.length); probeUses++)
      stamp(probes.used[probeUses] as TokenEvent);
    for (; produced < due; produced++) {
      const e = events.next().value;
      if (!e) break;
      stamp(e);
    }
    // Bounded requests: after a stall of the event loop one tick may owe thousands of events.
    for (let i = 0; i < messages.length; i += SEND_CHUNK)
      sends.push(producer.send({ topic: o.topic, acks: -1, messages: messages.slice(i, i + SEND_CHUNK) }));
    if (sent.length > 10_000) {
      sentLog.write(sent.join(''));
      sent = [];
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await Promise.all(sends);
  const seconds = (Date.now() - began) / 1000;
  await producer.disconnect();
  sentLog.write(sent.join(''));
  await new Promise((r) => sentLog.end(r));
  log(`latency: produced ${produced} world events and ${probeUses} probes in ${seconds.toFixed(1)} s`);
  process.stdout.write(`${JSON.stringify({ produced, probes: probeUses, seconds })}\n`);
}

/** Tokens granted `projects:read` at once, each used once later for `projects:admin`. */
function probeEvents(n: number): { issued: TokenEvent[]; used: TokenEvent[] } {
  const issued: TokenEvent[] = [];
  const used: TokenEvent[] = [];
  for (let i = 0; i < n; i++) {
    const token = `${PROBE_PREFIX}token-${i}`;
    issued.push({
      id: `${PROBE_PREFIX}issued-${i}`,
      type: 'token.issued',
      time: '',
      token: { id: token, kind: 'service_account', principal: 'sa-probe', scopes: ['projects:read'] },
    });
    used.push({
      id: `${PROBE_PREFIX}used-${i}`,
      type: 'token.used',
      time: '',
      token: { id: token, principal: 'sa-probe' },
      request: { scope: 'projects:admin', source_ip: '10.9.0.1', user_agent: 'probe/1.0', status: 200 },
    });
  }
  return { issued, used };
}
