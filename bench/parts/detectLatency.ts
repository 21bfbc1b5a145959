import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { openStore, serve } from '../../src/index.js';
import type { Batcher } from '../../src/ingest/batcher.js';
import type { Store } from '../../src/store/store.js';
import { benchConfig, uniqueName } from '../benchConfig.js';
import { log, round } from '../measure.js';
import { createTopic } from '../topic.js';
import { PROBE_PREFIX, type ProducerKind, type ProducerOptions } from './detectLatencyProducer.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** unknown_token waits `grace` (1 min) for a late issuance by design: its delay is not latency. */
const BY_DESIGN_DELAYED = new Set(['unknown_token']);

/**
 * (d): `serve()` with Kafka and detection on; a paced producer (a child process, as a real
 * producer is another process) sends a generated world at `rate` events/s, each event stamped
 * with the time it is produced, plus `probesPerSecond` probe uses that each open an out_of_scope
 * alert (the world alone opens ~20 a minute, too few for a p99). Latency of an alert is from the
 * send of the event that opened it (its first evidence) to the moment the insert that first
 * stored it (into alert_log, which a view copies into `alerts`) returned. `stages` splits that
 * time, read off the store and the batcher.
 */
export async function detectLatency(o: {
  rate: number;
  seconds: number;
  dataDir: string;
  latenessMs: number;
  probesPerSecond: number;
  /** ingest.batch_ms for this run; the shipped default when absent. */
  batchMs?: number;
  producer: ProducerKind;
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
  if (o.batchMs !== undefined) config.ingest.batch_ms = o.batchMs;
  const logger = pino({ level: 'warn' });
  const timings = newTimings();
  const store = watchStore(await openStore(config, logger), timings);
  const running = await serve(config, logger, { store });
  watchBatcher(running.batcher, timings);

  // History first: the stateful world's nine days, consumed as a backlog before the timed window.
  const liveStart = Date.now();
  const historyBegan = performance.now();
  const { history } = await runChild<{ history: number }>([
    ...['--child', 'latency-history', '--topic', topic],
    ...['--live-start', String(liveStart), '--latency-seconds', String(o.seconds)],
  ]);
  const count = async () =>
    Number(
      (await store.query<{ n: number }>(`SELECT count() AS n FROM ${store.database}.token_events`))[0]?.n,
    );
  while ((await count()) < history) await new Promise((r) => setTimeout(r, 500));
  const historySeconds = (performance.now() - historyBegan) / 1000;
  log(`latency: history of ${history} events stored in ${historySeconds.toFixed(1)} s`);
  await new Promise((r) => setTimeout(r, 2_000));

  const sentFile = join(o.dataDir, 'sent.tsv');
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  timings.recording = true;
  const produced = await runProducer({ ...o, topic, out: sentFile, liveStart });
  loop.disable();
  log('latency: draining');
  await new Promise((r) => setTimeout(r, 20_000));
  const storedEvents = (
    await store.query<{ n: number }>(`SELECT count() AS n FROM ${store.database}.token_events`)
  )[0]?.n;
  const live = [...timings.alerts.values()];
  await running.stop();
  const evidence = new Set(live.map((a) => a.evidence));
  const at: Stamps = {
    written: byId(timings.written, evidence),
    flushed: byId(timings.flushed, evidence),
    batches: byId(timings.batches, evidence),
  };
  await store.close();
  const sentAt = readSent(sentFile);

  const latencies = new Map<string, number[]>();
  const world: number[] = [];
  const probes: number[] = [];
  // The two halves of each latency: send to stored (Kafka + ingest), stored to alert stored (detection).
  const ingestMs: number[] = [];
  const detectMs: number[] = [];
  for (const a of live) {
    const sent = sentAt.get(a.evidence);
    if (sent === undefined) continue;
    const list = latencies.get(a.kind) ?? [];
    list.push(a.at - sent);
    latencies.set(a.kind, list);
    if (BY_DESIGN_DELAYED.has(a.kind)) continue;
    (a.evidence.startsWith(PROBE_PREFIX) ? probes : world).push(a.at - sent);
    const stored = at.batches.get(a.evidence)?.done;
    if (stored !== undefined) {
      ingestMs.push(stored - sent);
      detectMs.push(a.at - stored);
    }
  }
  const measured = [...world, ...probes];
  return {
    allowed_lateness_ms: o.latenessMs,
    history_events: history,
    history_seconds: round(historySeconds, 1),
    batch_ms: config.ingest.batch_ms,
    producer: o.producer,
    producer_cpu_us_per_event: produced.cpu_us_per_event,
    target_events_per_s: o.rate,
    produced: produced.produced,
    produce_events_per_s: Math.round(produced.produced / produced.seconds),
    probes_sent: produced.probes,
    stored_events_after_drain: Number(storedEvents),
    alerts_measured: measured.length,
    p50_ms: percentile(measured, 0.5),
    p99_ms: percentile(measured, 0.99),
    max_ms: percentile(measured, 1),
    ingest_p50_ms: percentile(ingestMs, 0.5),
    ingest_p99_ms: percentile(ingestMs, 0.99),
    detect_p50_ms: percentile(detectMs, 0.5),
    detect_p99_ms: percentile(detectMs, 0.99),
    world_alerts: { n: world.length, p50_ms: percentile(world, 0.5), p99_ms: percentile(world, 0.99) },
    probe_alerts: { n: probes.length, p50_ms: percentile(probes, 0.5), p99_ms: percentile(probes, 0.99) },
    by_kind: Object.fromEntries(
      [...latencies].map(([k, l]) => [
        k,
        { n: l.length, p50_ms: percentile(l, 0.5), p99_ms: percentile(l, 0.99) },
      ]),
    ),
    excluded: [...BY_DESIGN_DELAYED],
    stages: stages(live, sentAt, at),
    event_loop_delay_ms: {
      p50: round(loop.percentile(50) / 1e6, 0),
      p99: round(loop.percentile(99) / 1e6, 0),
      max: round(loop.max / 1e6, 0),
    },
  };
}

/** The producer child (bench/detect.ts --child latency-producer); resolves with its figures. */
function runProducer(
  o: ProducerOptions,
): Promise<{ produced: number; probes: number; seconds: number; cpu_us_per_event: number }> {
  const args = ['--child', 'latency-producer', '--topic', o.topic, '--rate', String(o.rate)];
  args.push('--producer', o.producer);
  args.push('--latency-seconds', String(o.seconds), '--probes', String(o.probesPerSecond));
  args.push('--out', o.out, '--live-start', String(o.liveStart));
  return runChild(args);
}

/**
 * A child of bench/detect.ts, with these Node flags; resolves with the JSON object on the last
 * line of its stdout.
 */
export function runChild<T>(childArgs: string[], nodeFlags: string[] = []): Promise<T> {
  const args = [...nodeFlags, '--import', 'tsx', 'bench/detect.ts', ...childArgs];
  const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((done, fail) => {
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', fail);
    p.on('exit', (code) => {
      if (code !== 0) fail(new Error(`bench child ${childArgs[1]} exited ${code}`));
      else done(JSON.parse(out.trim().split('\n').at(-1) as string));
    });
  });
}

function readSent(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) out.set(line.slice(0, tab), Number(line.slice(tab + 1)));
  }
  return out;
}

/**
 * What the watched batcher and store saw, from the timed window on (`recording`). Per call, not per
 * event: a map entry for each of 600,000 events made the process under test collect far more
 * garbage, which showed up as latency. Ids are indexed after the run, for the alerts' evidence only.
 */
interface Timings {
  recording: boolean;
  /** Alerts by id: the insert that first stored them (began, returned), kind, first evidence. */
  alerts: Map<string, Stored>;
  /** When events were handed to the batcher (decoded). */
  written: Calls<{ t: number }>;
  /** When a batch was flushed (its look-up of stored ids began). */
  flushed: Calls<{ t: number }>;
  /** Inserts of events: when each began and returned. */
  batches: Calls<{ insert: number; done: number }>;
}

interface Stored {
  start: number;
  at: number;
  kind: string;
  evidence: string;
}

/** Per evidence event, the calls of `Timings` that carried it. */
interface Stamps {
  written: Map<string, { t: number }>;
  flushed: Map<string, { t: number }>;
  batches: Map<string, { insert: number; done: number }>;
}

/** One record per call, with the ids it carried joined by newlines. */
type Calls<T> = { ids: string; at: T }[];

function newTimings(): Timings {
  return { recording: false, alerts: new Map(), written: [], flushed: [], batches: [] };
}

/** The first call that carried each of `ids`. */
function byId<T>(calls: Calls<T>, ids: Set<string>): Map<string, T> {
  const out = new Map<string, T>();
  for (const c of calls)
    for (const id of c.ids.split('\n')) if (ids.has(id) && !out.has(id)) out.set(id, c.at);
  return out;
}

/** Where each measured alert's latency went, stage by stage (p50/p99 of each). */
function stages(live: Stored[], sentAt: Map<string, number>, timings: Stamps) {
  const parts: Record<string, number[]> = {
    kafka_and_decode: [],
    batch_wait: [],
    look_up_and_queue: [],
    insert: [],
    to_log_insert: [],
    alert_insert: [],
  };
  const add = (k: string, v: number) => parts[k]?.push(v);
  for (const a of live) {
    if (BY_DESIGN_DELAYED.has(a.kind)) continue;
    const sent = sentAt.get(a.evidence);
    const w = timings.written.get(a.evidence);
    const f = timings.flushed.get(a.evidence);
    const b = timings.batches.get(a.evidence);
    if (sent === undefined || !w || !f || !b) continue;
    add('kafka_and_decode', w.t - sent);
    add('batch_wait', f.t - w.t);
    add('look_up_and_queue', b.insert - f.t);
    add('insert', b.done - b.insert);
    add('to_log_insert', a.start - b.done);
    add('alert_insert', a.at - a.start);
  }
  return Object.fromEntries(
    Object.entries(parts).map(([k, v]) => [k, { p50: percentile(v, 0.5), p99: percentile(v, 0.99) }]),
  );
}

/** The batcher, with the time each event reached it. */
function watchBatcher(batcher: Batcher, timings: Timings): void {
  const write = batcher.write.bind(batcher);
  batcher.write = (events, dead, progress) => {
    if (timings.recording)
      timings.written.push({ ids: events.map((e) => e.id).join('\n'), at: { t: Date.now() } });
    return write(events, dead, progress);
  };
}

/** The store, with event batches and alert inserts timed: when each began and returned, what it held. */
function watchStore(store: Store, timings: Timings): Store {
  const row = /"id":"([0-9a-f]+)","kind":"([^"]+)".*?"evidence":\["([^"]*)"/g;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'storedEventIds') {
        return (...args: Parameters<Store['storedEventIds']>) => {
          if (timings.recording) timings.flushed.push({ ids: args[0].join('\n'), at: { t: Date.now() } });
          return target.storedEventIds(...args);
        };
      }
      if (prop === 'insertEvents') {
        return async (...args: Parameters<Store['insertEvents']>) => {
          const b = { insert: Date.now(), done: 0 };
          await target.insertEvents(...args);
          b.done = Date.now();
          if (timings.recording) timings.batches.push({ ids: args[0].map((r) => r.id).join('\n'), at: b });
        };
      }
      if (prop !== 'command') return Reflect.get(target, prop, receiver);
      return async (sql: string, params?: Record<string, unknown>) => {
        const start = Date.now();
        await target.command(sql, params);
        const end = Date.now();
        // One insert stores an alert: into alert_log, which a view copies into `alerts`.
        if (!sql.startsWith(`INSERT INTO ${target.database}.alert_log`)) return;
        for (const m of sql.matchAll(row)) {
          const [, id, kind, evidence] = m as unknown as [string, string, string, string];
          if (!timings.alerts.has(id)) timings.alerts.set(id, { start, at: end, kind, evidence });
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
