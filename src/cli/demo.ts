import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { newApiKey } from '../api/auth.js';
import { type Config, DEFAULT_CONFIG } from '../config/config.js';
import { DemoFeed } from '../demo/demoFeed.js';
import { DEMO_FIRST_INCIDENT_MS, DEMO_HISTORY_DAYS, demoWorld } from '../demo/demoWorld.js';
import { ChoirError } from '../errors.js';
import { createBatcher, createDecoders, openStore, serve } from '../index.js';
import { createLogger } from '../logger.js';
import { createAlertStore } from '../store/alertStore.js';
import { cliContext } from './context.js';
import type { CliArgs } from './main.js';

/** Where the demo keeps its world when `storage.data_dir` was left at its default. */
export const DEMO_DATA_DIR = '.choir/demo';
/** Marks a data directory as the demo's own: only such a directory is wiped at the next start. */
const MARKER = 'choir-demo.txt';
const ALERT_POLL_MS = 2_000;

/**
 * `choir demo`: `choir serve` on embedded storage, fed by a generated token world with
 * incidents of every kind. History is written first (detection learns it without alerting);
 * then live events follow the wall clock through the same batcher HTTP uses, and every new
 * alert is printed to stderr as it is stored.
 */
export async function demoCommand(args: CliArgs): Promise<number> {
  const { config: base } = cliContext(args);
  const config = demoConfig(base);
  const logger = createLogger(config.log_level);
  const dataDir = config.storage.data_dir;
  prepareDataDir(dataDir);
  const { key, hash } = newApiKey();
  config.http.api_keys = [...config.http.api_keys, { name: 'demo', hash, scopes: ['ingest'] }];

  const tokens = args.tokens === undefined ? 300 : Number(args.tokens);
  if (!Number.isInteger(tokens) || tokens < 20 || tokens > 100_000) {
    throw new ChoirError(
      'INPUT_INVALID',
      `--tokens must be a whole number from 20 to 100000, got "${args.tokens}"`,
    );
  }
  const started = Date.now();
  const world = demoWorld({ now: started, tokens });
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say(
    `choir demo: generating ${DEMO_HISTORY_DAYS} days of history for ${world.credentials.length} tokens into ${dataDir} …`,
  );
  const store = await openStore(config, logger);
  const feed = new DemoFeed({ events: world.events(), decode: createDecoders(config)('choir')!, logger });
  const historyBatcher = createBatcher(config, store, logger);
  await feed.history(historyBatcher, started);
  await historyBatcher.close();
  const stored = Date.now();
  say(`  ${feed.stats.stored} events stored in ${seconds(stored - started)}; detection is learning them …`);

  // serve() rebuilds detector state from the stored history: known networks, baselines, tokens.
  const running = await serve(config, logger, { store });
  feed.live(running.batcher);
  say(`  learned in ${seconds(Date.now() - stored)}.`);
  say(
    banner({
      dataDir,
      apiUrl: running.apiUrl,
      key,
      firstIncidentIn: started + DEMO_FIRST_INCIDENT_MS - Date.now(),
    }),
  );

  const alerts = createAlertStore(store);
  const seen = new Set<string>();
  const poll = setInterval(() => {
    alerts.list().then(
      (list) => {
        for (const a of list) {
          if (seen.has(a.id)) continue;
          seen.add(a.id);
          say(`  alert  ${a.severity.padEnd(8)} ${a.kind.padEnd(24)} ${a.summary}`);
        }
      },
      (err) => logger.warn({ err }, 'could not read alerts'),
    );
  }, ALERT_POLL_MS);

  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  clearInterval(poll);
  say('choir demo: stopping; storing what was accepted …');
  await feed.stop();
  await running.stop();
  await store.close();
  say(
    `choir demo: stopped with ${feed.stats.stored} events stored; the world stays in ${dataDir} until the next \`choir demo\`.`,
  );
  return 0;
}

/**
 * Embedded storage in the demo's own directory, fed in-process (no Kafka, even when KAFKA_BROKERS
 * is set), hygiene checks every minute, quiet logs.
 */
function demoConfig(base: Config): Config {
  const config = structuredClone(base);
  config.storage.clickhouse_url = null;
  config.kafka.brokers = [];
  if (base.storage.data_dir === DEFAULT_CONFIG.storage.data_dir) config.storage.data_dir = DEMO_DATA_DIR;
  // The default hour would hold back stale/overdue/orphan alerts until the next whole hour.
  config.detect.scheduled_every_ms = 60_000;
  if (base.log_level === DEFAULT_CONFIG.log_level) config.log_level = 'warn';
  return config;
}

/** Start from an empty directory; refuse one that holds anything but an earlier demo. */
function prepareDataDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(join(dir, MARKER))) {
      throw new ChoirError(
        'CONFIG_INVALID',
        `choir demo starts from an empty data directory and wipes it at its next start, but ${resolve(dir)} ` +
          'holds other data; set CHOIR_DATA_DIR (storage.data_dir) to an empty directory',
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER), 'Written by `choir demo`: this directory is wiped at its next start.\n');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function banner(o: { dataDir: string; apiUrl: string | null; key: string; firstIncidentIn: number }): string {
  const env =
    o.dataDir === DEMO_DATA_DIR ? `CHOIR_DATA_DIR=${DEMO_DATA_DIR} ` : `CHOIR_DATA_DIR=${o.dataDir} `;
  const wait = Math.max(0, Math.round(o.firstIncidentIn / 1000));
  return [
    '',
    'choir demo is running: live traffic now follows the clock (event time = now).',
    `  Injected incidents of every stream kind begin in ~${wait} s (one every 8 s, then a round every 10 min);`,
    '  stale, never-used, overdue, no-expiry and orphaned tokens are in the history (checked every minute).',
    '  New alerts print below as they are stored.',
    o.apiUrl
      ? `  API ${o.apiUrl}: post your own events with\n    curl -H "Authorization: Bearer ${o.key}" --data-binary @events.ndjson ${o.apiUrl}/v1/events`
      : '  HTTP is disabled (http.enabled: false).',
    '  The data directory is locked while the demo runs. After Ctrl-C, look around with:',
    `    ${env}npx choir alerts list`,
    `    ${env}npx choir tokens`,
    `    ${env}npx choir sql "SELECT kind, count() FROM choir.alerts FINAL GROUP BY kind"`,
    '',
  ].join('\n');
}
