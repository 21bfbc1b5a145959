import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { STREAM_SCENARIO_NAMES } from '../../src/demo/incidents.js';
import { createIsoFormatter } from '../../src/demo/isoTime.js';
import { DAY } from '../../src/demo/model.js';
import { createWorld, type World } from '../../src/demo/world.js';
import type { TokenEvent } from '../../src/events/contract.js';
import { BROKERS } from '../benchConfig.js';
import { log } from '../measure.js';
import { benchKafka } from '../topic.js';

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
  /** End of the stateful world's history (see `produceLatencyHistory`); its live part follows. */
  liveStart: number;
  producer: ProducerKind;
}

/** What hands the timed window's messages to the broker. */
export type ProducerKind = 'kcat' | 'kafkajs';

/** Linux's USER_HZ, the unit of /proc/PID/stat times. */
const CLOCK_TICKS_PER_S = 100;

interface Message {
  key: string;
  value: string;
}

interface Sender {
  send(messages: Message[]): void;
  /** Every message sent is acknowledged by the broker (acks=all); resolves to CPU µs spent outside this process. */
  close(): Promise<number>;
}

/**
 * kcat (librdkafka) reading `key<TAB>value` lines on its stdin: ~3 µs of CPU a message against
 * kafkajs's ~20-25, measured on the reference machine. The producer shares the cores with the
 * broker and with Choir; a real one runs elsewhere. JSON and token ids hold no raw tab or newline.
 */
async function kcatSender(topic: string): Promise<Sender> {
  const child = spawn(
    'kcat',
    ['-P', '-b', BROKERS.join(','), '-t', topic, '-K', '\t', '-X', 'acks=all', '-X', 'linger.ms=5'],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const exited = once(child, 'exit');
  await Promise.race([
    once(child, 'spawn'),
    once(child, 'error').then(([err]) => {
      throw new Error(
        `bench/detect's latency producer needs kcat (Debian: apt-get install kcat), or pass --producer kafkajs: ${(err as Error).message}`,
      );
    }),
  ]);
  return {
    send(messages) {
      let lines = '';
      for (const m of messages) lines += `${m.key}\t${m.value}\n`;
      child.stdin.write(lines);
    },
    async close() {
      // utime and stime (fields 14 and 15, clock ticks), read before exit: the flush after is tiny.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      child.stdin.end();
      const [code] = await exited;
      if (code !== 0) throw new Error(`kcat exited ${code}`);
      return (ticks * 1e6) / CLOCK_TICKS_PER_S;
    },
  };
}

async function kafkajsSender(topic: string): Promise<Sender> {
  const producer = benchKafka('choir-bench-latency').producer();
  await producer.connect();
  const sends: Promise<unknown>[] = [];
  return {
    send(messages) {
      // Bounded requests: after a stall of the event loop one tick may owe thousands of events.
      for (let i = 0; i < messages.length; i += SEND_CHUNK)
        sends.push(producer.send({ topic, acks: -1, messages: messages.slice(i, i + SEND_CHUNK) }));
    },
    async close() {
      await Promise.all(sends);
      await producer.disconnect();
      return 0;
    },
  };
}

/** Days of the stateful world's history: past new_source's 7-day learning period, with a day to spare. */
const HISTORY_DAYS = 9;
const HISTORY_TOKENS = 300;

/**
 * The world whose incidents need history to fire (new_source, concurrent_sources, request_spike,
 * use_after_revoke…): 300 tokens with nine days of traffic before `liveStart`, then incidents of
 * every stream scenario packed into the timed window, one a second, round-robin.
 */
function statefulWorld(liveStart: number, seconds: number): World {
  const incidentTimes: number[] = [];
  for (let t = 3_000; t < seconds * 1000 - 5_000; t += 1_000) incidentTimes.push(liveStart + t);
  return createWorld({
    seed: 5,
    start: liveStart - HISTORY_DAYS * DAY,
    days: HISTORY_DAYS + 1,
    tokens: HISTORY_TOKENS,
    eventsPerDay: HISTORY_TOKENS * 80,
    incidentTimes,
    quick: true,
    scheduledIncidents: false,
  });
}

/**
 * Before the timed window: the stateful world's history up to `liveStart`, sent as fast as the
 * broker takes it (Choir then catches up on it, as after an outage). Prints how many it sent.
 */
export async function produceLatencyHistory(o: { topic: string; liveStart: number; seconds: number }) {
  const producer = benchKafka('choir-bench-history').producer();
  await producer.connect();
  const cutoff = new Date(o.liveStart).toISOString();
  let sent = 0;
  let messages: { key: string; value: string }[] = [];
  const sends: Promise<unknown>[] = [];
  for (const e of statefulWorld(o.liveStart, o.seconds).events()) {
    if (e.time > cutoff) break;
    messages.push({ key: e.token?.id ?? e.principal ?? '', value: JSON.stringify(e) });
    if (messages.length === SEND_CHUNK * 10) {
      sends.push(producer.send({ topic: o.topic, acks: -1, messages }));
      sent += messages.length;
      messages = [];
      if (sends.length >= 8) await Promise.all(sends.splice(0));
    }
  }
  sends.push(producer.send({ topic: o.topic, acks: -1, messages }));
  sent += messages.length;
  await Promise.all(sends);
  await producer.disconnect();
  log(`latency: history of ${sent} events sent (${STREAM_SCENARIO_NAMES.length} stream scenarios follow)`);
  process.stdout.write(`${JSON.stringify({ history: sent })}
`);
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
  // Generated before the window: only stamping and serialising are left to do on time.
  const events: TokenEvent[] = [];
  for (const e of world.events()) {
    if (events.length >= o.rate * o.seconds + o.rate) break;
    events.push(e);
  }
  // The stateful world past its history; its times move by the pause between history and now.
  const stateful = statefulWorld(o.liveStart, o.seconds).events();
  const liveCutoff = new Date(o.liveStart).toISOString();
  let next = stateful.next();
  while (!next.done && next.value.time <= liveCutoff) next = stateful.next();
  const probes = probeEvents(Math.floor(o.seconds * o.probesPerSecond));
  const sentLog = createWriteStream(o.out);
  const sender = o.producer === 'kcat' ? await kcatSender(o.topic) : await kafkajsSender(o.topic);
  const iso = createIsoFormatter();
  const cpu = process.cpuUsage();
  const began = Date.now();
  let produced = 0;
  let probeUses = 0;
  let sent: string[] = [];
  while (Date.now() - began < o.seconds * 1000) {
    const elapsed = Date.now() - began;
    const due = Math.floor((elapsed / 1000) * o.rate);
    const messages: Message[] = [];
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
    for (; produced < Math.min(due, events.length); produced++) stamp(events[produced] as TokenEvent);
    // Its own times (shifted to now), not the load's: incidents keep their rhythm.
    const shift = began - o.liveStart;
    while (!next.done && Date.parse(next.value.time) + shift <= at) {
      const e = next.value;
      const time = Date.parse(e.time) + shift;
      sent.push(`${e.id}\t${at}\n`);
      messages.push({
        key: e.token?.id ?? e.principal ?? '',
        value: JSON.stringify({ ...e, time: iso(time) }),
      });
      next = stateful.next();
    }
    sender.send(messages);
    if (sent.length > 10_000) {
      sentLog.write(sent.join(''));
      sent = [];
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  const outside = await sender.close();
  const seconds = (Date.now() - began) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuPerEvent = Math.round(((used.user + used.system + outside) / (produced + probeUses)) * 10) / 10;
  sentLog.write(sent.join(''));
  await new Promise((r) => sentLog.end(r));
  log(
    `latency: produced ${produced} world events and ${probeUses} probes in ${seconds.toFixed(1)} s ` +
      `through ${o.producer}, ${cpuPerEvent} µs of CPU per event`,
  );
  process.stdout.write(
    `${JSON.stringify({ produced, probes: probeUses, seconds, cpu_us_per_event: cpuPerEvent })}\n`,
  );
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
