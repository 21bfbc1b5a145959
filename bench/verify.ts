/**
 * bench/verify: `choir verify` throughput over a chained log, against a plain full scan of the same rows.
 *
 *   node --import tsx bench/verify.ts [--events 10000000] [--batch 20000] [--data-dir DIR]
 *
 * The log is written honestly: contract-v1 events flattened by Choir's own normalise(), inserted
 * through the chained store that `choir serve` uses (every insert one link, hashed in Node by the
 * writer), `--batch` rows per link as the batcher's default. Only the verification is timed, and
 * in the same run the reference `SELECT count(), sum(cityHash64(*))` reads every column of every
 * row. A `--data-dir` that already holds the events is reused. JSON on stdout, progress on stderr.
 */
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalise } from '../src/events/normalise.js';
import { openStore } from '../src/index.js';
import { createLogger } from '../src/logger.js';
import { CANONICAL_SETTINGS_SQL } from '../src/store/canonicalForm.js';
import { EVENTS_TABLE } from '../src/store/chainedTables.js';
import type { EventRow } from '../src/store/store.js';
import { verifyLog } from '../src/store/verify.js';
import { makeEvent } from '../test/support/generate.js';
import { intArg, parseArgs } from './args.js';
import { benchConfig } from './benchConfig.js';
import { log, peakRssMiB, round } from './measure.js';

const TARGET_ROWS_PER_S = 1_000_000;
const args = parseArgs(process.argv.slice(2));
const events = intArg(args, 'events', 10_000_000);
const batch = intArg(args, 'batch', 20_000);
const dataDir = args.get('data-dir') ?? mkdtempSync(join(tmpdir(), 'choir-bench-verify-'));

const config = benchConfig({ dataDir, database: 'bench_verify' });
const store = await openStore(config, createLogger(config.log_level));
const table = `${store.database}.token_events`;
const count = async () =>
  Number((await store.query<{ n: number }>(`SELECT count() AS n FROM ${table}`))[0]!.n);

const have = await count();
let write: Record<string, unknown> = { reused: true };
if (have !== events) {
  if (have > 0) throw new Error(`${dataDir} holds ${have} events, not ${events}: give another --data-dir`);
  write = await fill();
}

// chDB runs in this process, so its CPU time is ours: a figure the other load on the machine cannot skew.
log('reference full scan');
const reference = await timed(() => store.query(`SELECT count(), sum(cityHash64(*)) FROM ${table}`));
log('verify');
const cpuBefore = process.cpuUsage();
const report = await verifyLog({
  store,
  key: config.security.chain_key,
  retentionDays: 0,
  pageRows: 2_000_000,
});
const verifyCpu = cpuSeconds(cpuBefore);
const refCpuBefore = process.cpuUsage();
const referenceAfter = await timed(() => store.query(`SELECT count(), sum(cityHash64(*)) FROM ${table}`));
const referenceCpu = cpuSeconds(refCpuBefore);
// Where verification's time goes, piece by piece over every row: the canonical line alone, the
// row digests over it, and the per-batch content hashes (sorted digests) on top.
const line = EVENTS_TABLE.form.sqlDigest.replace(/^SHA256\((.*)\)$/, '$1');
const pieces = {
  canonical_line: await timedCpu(`SELECT sum(length(${line})) FROM ${table} ${CANONICAL_SETTINGS_SQL}`),
  row_digests: await timedCpu(
    `SELECT sum(reinterpretAsUInt32(substring(${EVENTS_TABLE.form.sqlDigest}, 1, 4))) FROM ${table} ${CANONICAL_SETTINGS_SQL}`,
  ),
  content_hashes: await timedCpu(
    `SELECT batch_seq, lower(hex(SHA256(arrayStringConcat(arrayMap(x -> hex(x), arraySort(groupArray(d)))))))
     FROM (SELECT batch_seq, ${EVENTS_TABLE.form.sqlDigest} AS d FROM ${table}) GROUP BY batch_seq ${CANONICAL_SETTINGS_SQL}`,
  ),
};
await store.close();

const refSeconds = Math.min(reference, referenceAfter);
const verifyRate = Math.round(events / report.seconds);
process.stdout.write(
  `${JSON.stringify({
    events,
    rows_per_link: batch,
    links: report.links,
    data_dir: dataDir,
    write,
    verify: {
      intact: report.intact,
      rows: report.rows,
      seconds: report.seconds,
      events_per_s: verifyRate,
      cpu_seconds: round(verifyCpu, 1),
      events_per_cpu_second: Math.round(events / verifyCpu),
    },
    reference_full_scan: {
      seconds: round(refSeconds, 3),
      events_per_s: Math.round(events / refSeconds),
      cpu_seconds: round(referenceCpu, 1),
    },
    cores: availableParallelism(),
    load_average_1m: round(loadavg()[0]!, 2),
    verify_vs_full_scan: round(refSeconds / report.seconds, 3),
    pieces,
    target_events_per_s: TARGET_ROWS_PER_S,
    meets_target: verifyRate >= TARGET_ROWS_PER_S,
    peak_rss_mib: peakRssMiB(),
  })}\n`,
);
process.exit(0);

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

/** Wall and CPU seconds of one query (CPU: chDB runs in this process). */
async function timedCpu(sql: string): Promise<{ seconds: number; cpu_seconds: number }> {
  const cpu = process.cpuUsage();
  const seconds = await timed(() => store.query(sql));
  return { seconds: round(seconds, 3), cpu_seconds: round(cpuSeconds(cpu), 2) };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** Write the log through the chained store, one link per `batch` rows; time the chain's share apart. */
async function fill(): Promise<Record<string, unknown>> {
  log(`writing ${events} events in links of ${batch} rows to ${dataDir}`);
  const started = performance.now();
  const ingestedAt = Date.now();
  // The next batch is generated while ClickHouse stores the previous one.
  let storing: Promise<unknown> = Promise.resolve();
  for (let start = 0; start < events; start += batch) {
    const rows: EventRow[] = [];
    for (let i = start; i < Math.min(events, start + batch); i++) {
      const e = makeEvent(i, { tokens: 10_000 });
      rows.push({
        ...normalise(e, JSON.stringify(e)),
        ingest_source: 'kafka:bench',
        ingest_partition: i % 6,
        ingest_offset: Math.floor(i / 6),
        ingested_at: ingestedAt + Math.floor(i / batch),
      });
    }
    await storing;
    storing = store.insertEvents(rows, `bench-${start}`);
    if ((start / batch) % 50 === 0) log(`  ${start + rows.length} written`);
  }
  await storing;
  const seconds = (performance.now() - started) / 1000;
  return { seconds: round(seconds, 1), events_per_s: Math.round(events / seconds) };
}
