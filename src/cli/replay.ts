import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../config/config.js';
import { resolveFingerprintKey } from '../config/fingerprintKey.js';
import { startDetection } from '../detect/startDetection.js';
import { ChoirError } from '../errors.js';
import { createBatcher, createDecoders, openStore } from '../index.js';
import { ingestStream } from '../ingest/fileSource.js';
import { alertJson, createAlertStore } from '../store/alertStore.js';
import { cliContext } from './context.js';
import { wholeDocument } from './ingest.js';
import type { CliArgs } from './main.js';

/**
 * `choir replay FILE|-`: a fresh embedded store in a temp directory (never the configured one,
 * removed afterwards), the file ingested through the same decoders and batcher as `choir ingest`,
 * every detector run on event time through the same runner as `choir serve`, and every alert in
 * its final state printed as one JSON object per line, by first_seen then id. Logs go to stderr.
 */
export async function replayCommand(args: CliArgs): Promise<number> {
  const file = args.positionals[0];
  if (!file) {
    process.stderr.write('usage: choir replay FILE|- [--format choir|k8s-audit|vault|cloudtrail|github]\n');
    return 2;
  }
  const { config: userConfig, logger } = cliContext(args);
  const dir = mkdtempSync(join(tmpdir(), 'choir-replay-'));
  try {
    const config = replayConfig(userConfig, dir);
    const decode = createDecoders(config)(args.format);
    if (!decode) throw new ChoirError('INPUT_INVALID', `unknown --format "${args.format}"`);
    const store = await openStore(config, logger);
    try {
      const detection = await startDetection({ config, store, logger, rebuild: false, watch: false });
      const batcher = createBatcher(config, store, logger, detection);
      const input: Readable =
        file === '-'
          ? process.stdin
          : (wholeDocument(file, args.format, statSync(file).size) ?? createReadStream(file));
      try {
        const summary = await ingestStream({
          input,
          source: file === '-' ? 'stdin' : `file:${basename(file)}`,
          decode,
          batcher,
        });
        logger.info(summary, 'replay input read');
      } finally {
        await batcher.close();
      }
      await detection.stop();
      const alerts = await createAlertStore(store).list();
      for (let i = 0; i < alerts.length; i += 1_000) {
        const chunk = alerts.slice(i, i + 1_000).map((a) => `${JSON.stringify(alertJson(a))}\n`);
        process.stdout.write(chunk.join(''));
      }
      logger.info({ alerts: alerts.length }, 'replay finished');
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

/** The user's settings (rules, lateness, formats, batching) on a throw-away embedded store. */
function replayConfig(config: Config, dir: string): Config {
  // The same fingerprint key as the live store, when there is one, so fingerprinted ids match it;
  // read only, never created beside the user's data directory.
  const keyFile = join(dirname(config.storage.data_dir), 'fingerprint.key');
  const fingerprintKey =
    config.security.fingerprint_key || (existsSync(keyFile) ? resolveFingerprintKey(config) : '');
  return {
    ...config,
    storage: {
      ...config.storage,
      clickhouse_url: null,
      database: 'choir_replay',
      data_dir: join(dir, 'data'),
      retention_days: 0,
    },
    security: { ...config.security, fingerprint_key: fingerprintKey },
    detect: { ...config.detect, enabled: true },
  };
}
