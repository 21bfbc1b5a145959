import { openStore, serve } from '../index.js';
import { createClickHouseStore } from '../store/clickhouseStore.js';
import { applyRetention, migrate } from '../store/migrations.js';
import { cliContext } from './context.js';
import type { CliArgs } from './main.js';

export async function serveCommand(args: CliArgs): Promise<number> {
  const { config, logger } = cliContext(args);
  const running = await serve(config, logger);
  logger.info(
    { mode: config.storage.clickhouse_url ? 'server' : 'embedded', api: running.apiUrl },
    'choir is running; Ctrl-C to stop',
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  logger.info('stopping: draining accepted events to storage');
  await running.stop();
  return 0;
}

export async function migrateCommand(args: CliArgs): Promise<number> {
  const { config, logger } = cliContext(args);
  const store = createClickHouseStore(config.storage);
  try {
    const applied = await migrate(store, logger);
    // As the admin: instances running as the writer role may not change the TTL themselves.
    await applyRetention(store, config.storage.retention_days);
    const out = { applied, database: store.database, mode: store.mode };
    process.stdout.write(
      args.json
        ? `${JSON.stringify(out)}\n`
        : `migrations applied: ${applied.join(', ') || 'none (up to date)'}\n`,
    );
  } finally {
    await store.close();
  }
  return 0;
}

export async function sqlCommand(args: CliArgs): Promise<number> {
  const sql = args.positionals.join(' ').trim();
  if (!sql) {
    process.stderr.write(
      'choir sql: give a query, e.g. choir sql "SELECT count() FROM choir.token_events"\n',
    );
    return 2;
  }
  const { config, logger } = cliContext(args);
  const store = await openStore(config, logger);
  try {
    // readonly=2: this command can look at the log but never change it.
    const rows = await store.query<Record<string, unknown>>(`${sql} SETTINGS readonly = 2`);
    for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
  } finally {
    await store.close();
  }
  return 0;
}
