/**
 * bench/ingest: Kafka ▸ ClickHouse throughput of Choir against its references, on one topic.
 *
 *   node --import tsx bench/ingest.ts [--events 1000000] [--topic T --keep-topic] [--parts a,b]
 *        [--engine-consumers 1] [--engine-block 65536] [--engine-flush-ms 500] [--engine-thread-per-consumer]
 *        [--profile DIR]   (CPU profile of the end-to-end child into DIR)
 *        [--plain-node]    (children without the Node flags bin/choir.js starts with)
 *
 * The parent fills a fresh topic, then runs every measurement in a child process of its own
 * (`--part NAME`): chDB allows one data directory per process, and each peak RSS then belongs to
 * one measurement. One JSON object goes to stdout; progress goes to stderr.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intArg, parseArgs, stringArg } from './args.js';
import { uniqueName } from './benchConfig.js';
import type { EngineOptions } from './kafkaEngineSql.js';
import { log, peakRssMiB, round } from './measure.js';
import { choirNodeFlags } from './nodeFlags.js';
import { choirEndToEnd } from './parts/choirEndToEnd.js';
import { kafkaEngine } from './parts/kafkaEngine.js';
import { rawInsert } from './parts/rawInsert.js';
import { rawKafkajs } from './parts/rawKafkajs.js';
import { createAndFill, deleteTopic, PARTITIONS } from './topic.js';

const PARTS = ['raw_kafkajs', 'raw_insert', 'choir_end_to_end', 'clickhouse_kafka_engine'] as const;
type Part = (typeof PARTS)[number];
/** Issue 2's targets on the 2-core reference machine. */
const TARGET_EVENTS_PER_S = 50_000;
const TARGET_RATIO = 0.5;

const args = parseArgs(process.argv.slice(2));
const events = intArg(args, 'events', 1_000_000);
const engine: EngineOptions = {
  consumers: intArg(args, 'engine-consumers', 1),
  maxBlockSize: intArg(args, 'engine-block', 65_536),
  flushIntervalMs: intArg(args, 'engine-flush-ms', 500),
  threadPerConsumer: args.has('engine-thread-per-consumer'),
};

if (args.has('part')) await runPart(stringArg(args, 'part') as Part);
else await runAll();

async function runPart(part: Part): Promise<void> {
  const topic = stringArg(args, 'topic');
  const dataDir = stringArg(args, 'data-dir');
  const runners: Record<Part, () => Promise<object>> = {
    raw_kafkajs: () => rawKafkajs(topic, events),
    raw_insert: () => rawInsert(topic, events, dataDir),
    choir_end_to_end: () => choirEndToEnd(topic, events, dataDir),
    clickhouse_kafka_engine: () => kafkaEngine(topic, events, dataDir, engine),
  };
  if (!PARTS.includes(part)) throw new Error(`unknown part ${part}; one of ${PARTS.join(', ')}`);
  const result = await runners[part]();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // Kafka and chDB can leave handles open after close; the result is out, so end here.
  process.exit(0);
}

async function runAll(): Promise<void> {
  const parts = (args.get('parts')?.split(',').filter(Boolean) ?? [...PARTS]) as Part[];
  const unknown = parts.filter((p) => !PARTS.includes(p));
  if (unknown.length) throw new Error(`unknown part ${unknown}; parts are ${PARTS.join(', ')}`);
  const given = args.get('topic');
  const topic = given ?? uniqueName('choir-bench');
  const dataRoot = mkdtempSync(join(tmpdir(), 'choir-bench-'));
  const out: Record<string, unknown> = {
    events,
    partitions: PARTITIONS,
    topic,
    clocks:
      'raw_kafkajs, choir_end_to_end and clickhouse_kafka_engine run from consumer start (group join included) ' +
      'to the last message seen / count() = events; steady_events_per_s starts at the first message or row. ' +
      'raw_insert times store.insertEvents only (TSV encoding included), decode separately.',
  };
  try {
    if (!given) {
      log(`producing ${events} events to ${topic}`);
      out.produce = await createAndFill(topic, events);
    }
    const results: Partial<Record<Part, Record<string, unknown>>> = {};
    for (const part of parts) {
      log(`running ${part}`);
      results[part] = await child(part, topic, join(dataRoot, part));
      log(`${part}: ${JSON.stringify(results[part])}`);
      out[part] = results[part];
    }
    const e2e = results.choir_end_to_end?.events_per_s as number | undefined;
    const eng = results.clickhouse_kafka_engine?.events_per_s as number | undefined;
    const ratio = e2e !== undefined && eng !== undefined ? round(e2e / eng, 2) : null;
    out.e2e_vs_kafka_engine = ratio;
    out.targets = {
      e2e_events_per_s: {
        target: TARGET_EVENTS_PER_S,
        actual: e2e ?? null,
        met: e2e !== undefined && e2e >= TARGET_EVENTS_PER_S,
      },
      e2e_vs_kafka_engine: {
        target: TARGET_RATIO,
        actual: ratio,
        met: ratio !== null && ratio >= TARGET_RATIO,
      },
    };
    // The parent only produces; every measurement's memory is in its own part's peak_rss_mib.
    out.parent_peak_rss_mib = peakRssMiB();
    out.max_peak_rss_mib = Math.max(
      peakRssMiB(),
      ...Object.values(results).map((r) => (r?.peak_rss_mib as number | undefined) ?? 0),
    );
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
    if (!given && !args.has('keep-topic'))
      await deleteTopic(topic).catch((e) => log(`topic not deleted: ${e}`));
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

/** Run one part in a fresh Node process and return the JSON line it prints. */
function child(part: Part, topic: string, dataDir: string): Promise<Record<string, unknown>> {
  const profile = part === 'choir_end_to_end' && args.get('profile');
  const nodeArgs = [
    ...(args.has('plain-node') ? [] : choirNodeFlags()),
    ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []),
    '--import',
    'tsx',
    process.argv[1]!,
    '--part',
    part,
    '--topic',
    topic,
    '--data-dir',
    dataDir,
    '--events',
    String(events),
    '--engine-consumers',
    String(engine.consumers),
    '--engine-block',
    String(engine.maxBlockSize),
    '--engine-flush-ms',
    String(engine.flushIntervalMs),
    ...(engine.threadPerConsumer ? ['--engine-thread-per-consumer'] : []),
  ];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    proc.stdout.on('data', (d) => {
      stdout += d;
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = stdout
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`${part} exited with ${code}: ${stdout.slice(-2000)}`));
    });
  });
}
