/**
 * Detection benchmark: prints ONE JSON object; never a pass/fail test.
 * Usage: node --expose-gc --import tsx bench/detect.ts [--tokens 2000] [--days 12]
 *   [--events-per-day 100000] [--incidents 440] [--seed 1] [--memory-tokens 1000000]
 *   [--latency-seconds 60] [--rate 10000] [--latency-lateness 200] [--probes 10] [--batch-ms N]
 *   [--producer kcat|kafkajs] [--skip-quality] [--skip-memory] [--skip-latency]
 * (a) per-kind recall and overall precision on a labelled generated world (src/demo);
 * (b) stream-engine throughput over pre-decoded rows, every shipped rule on, one core;
 * (c) peak memory with --memory-tokens tracked tokens: the engine in a child process, fed by a
 *     generator child over a pipe (and on a synthetic stream); the generator's own figures apart;
 * (d) event-to-alert latency per alert kind while `serve()` consumes Kafka at --rate events/s, in a
 *     child process started with `choir`'s Node flags
 *     (needs a broker: KAFKA_BROKERS, default 127.0.0.1:19092), at each --latency-lateness; a
 *     stateful world's nine days of history are written and consumed first, so order-dependent
 *     kinds fire in the timed window; the producer is a child process, adding --probes
 *     out_of_scope probe alerts a second. It hands the messages to kcat (librdkafka: Debian
 *     package `kcat`) by default, or to kafkajs with --producer kafkajs, which costs the shared
 *     cores ~7× more CPU per message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../src/config/config.js';
import { loadRules } from '../src/detect/rules.js';
import { intArg, parseArgs, stringArg } from './args.js';
import { log, peakRssMiB } from './measure.js';
import { choirNodeFlags } from './nodeFlags.js';
import type { ProducerKind } from './parts/detectLatencyProducer.js';
import { detectMemory, engineChild, generatorChild, leanMemoryChild } from './parts/detectMemory.js';

const args = parseArgs(process.argv.slice(2));

function producerArg(): ProducerKind {
  const p = args.get('producer') ?? 'kcat';
  if (p !== 'kcat' && p !== 'kafkajs') throw new Error(`--producer must be kcat or kafkajs, got ${p}`);
  return p;
}

if (args.get('child') === 'latency-history') {
  const { produceLatencyHistory } = await import('./parts/detectLatencyProducer.js');
  await produceLatencyHistory({
    topic: stringArg(args, 'topic'),
    liveStart: intArg(args, 'live-start', 1),
    seconds: intArg(args, 'latency-seconds', 60),
  });
} else if (args.get('child') === 'latency-producer') {
  const { produceLatencyWorld } = await import('./parts/detectLatencyProducer.js');
  await produceLatencyWorld({
    topic: stringArg(args, 'topic'),
    rate: intArg(args, 'rate', 10_000),
    seconds: intArg(args, 'latency-seconds', 60),
    probesPerSecond: intArg(args, 'probes', 10),
    out: stringArg(args, 'out'),
    liveStart: intArg(args, 'live-start', 1),
    producer: producerArg(),
  });
} else if (args.get('child') === 'latency') {
  const { detectLatency } = await import('./parts/detectLatency.js');
  const result = await detectLatency({
    rate: intArg(args, 'rate', 10_000),
    seconds: intArg(args, 'latency-seconds', 60),
    latenessMs: Number(stringArg(args, 'latency-lateness')),
    probesPerSecond: intArg(args, 'probes', 10),
    ...(args.has('batch-ms') ? { batchMs: intArg(args, 'batch-ms', 500) } : {}),
    producer: producerArg(),
    dataDir: stringArg(args, 'data-dir'),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // Kafka and chDB can leave handles open after close; the result is out, so end here.
  process.exit(0);
} else if (args.get('child') === 'memory') {
  const tokens = intArg(args, 'tokens', 1_000_000);
  if (args.has('lean')) await leanMemoryChild(tokens);
  else if (args.has('generate')) await generatorChild(tokens);
  else await engineChild();
} else {
  const dir = mkdtempSync(join(tmpdir(), 'choir-bench-detect-'));
  try {
    const out: Record<string, unknown> = {};
    // Imported only here: they load chDB and kafkajs (~150 MiB of RSS) that memory children must not carry.
    const { detectQuality } = await import('./parts/detectQuality.js');
    const { runChild } = await import('./parts/detectLatency.js');
    if (!args.has('skip-quality')) {
      const quality = await detectQuality({
        seed: intArg(args, 'seed', 1),
        tokens: intArg(args, 'tokens', 2_000),
        days: intArg(args, 'days', 12),
        eventsPerDay: intArg(args, 'events-per-day', 100_000),
        incidents: intArg(args, 'incidents', 440),
        dataDir: join(dir, 'quality'),
        rules: await loadRules('rules'),
      });
      Object.assign(out, quality, { quality_peak_rss_mib: peakRssMiB() });
    }
    if (!args.has('skip-memory')) {
      log('memory: child processes');
      out.memory = await detectMemory(intArg(args, 'memory-tokens', 1_000_000));
    }
    if (!args.has('skip-latency')) {
      const rate = intArg(args, 'rate', 10_000);
      const seconds = intArg(args, 'latency-seconds', 60);
      out.latency = [];
      const latenesses = String(args.get('latency-lateness') ?? DEFAULT_CONFIG.detect.allowed_lateness_ms)
        .split(',')
        .map(Number);
      for (const latenessMs of latenesses) {
        log(`latency: ${rate}/s for ${seconds} s, allowed lateness ${latenessMs} ms`);
        // A process of its own, Node started as `choir` starts it: the quality part leaves a heap
        // of gigabytes behind, whose collection would be billed to the latencies.
        const passOn = ['rate', 'latency-seconds', 'probes', 'batch-ms', 'producer'].flatMap((k) =>
          args.has(k) ? [`--${k}`, args.get(k) as string] : [],
        );
        (out.latency as unknown[]).push(
          await runChild(
            [
              ...['--child', 'latency', '--latency-lateness', String(latenessMs)],
              ...['--data-dir', join(dir, `latency-${latenessMs}`), ...passOn],
            ],
            choirNodeFlags(),
          ),
        );
      }
    }
    process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
