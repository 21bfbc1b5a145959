import type { AlertStatus } from '../detect/index.js';
import { ChoirError } from '../errors.js';
import { openStore } from '../index.js';
import { alertJson, createAlertStore } from '../store/alertStore.js';
import { cliContext } from './context.js';
import type { CliArgs } from './main.js';

const STATUSES = ['open', 'confirmed', 'dismissed', 'revoked'];

/** `choir alerts list [--status S] [--since TIME] [--json]`: alerts in their final state, oldest first. */
export async function alertsCommand(args: CliArgs): Promise<number> {
  if (args.positionals[0] !== 'list') {
    process.stderr.write(
      'usage: choir alerts list [--status open|confirmed|dismissed|revoked] [--since TIME] [--json]\n',
    );
    return 2;
  }
  if (args.status !== undefined && !STATUSES.includes(args.status)) {
    throw new ChoirError(
      'INPUT_INVALID',
      `--status must be one of ${STATUSES.join(', ')}, got "${args.status}"`,
    );
  }
  const since = args.since === undefined ? undefined : Date.parse(args.since);
  if (since !== undefined && Number.isNaN(since)) {
    throw new ChoirError(
      'INPUT_INVALID',
      `--since must be a time such as 2026-01-01T00:00:00Z, got "${args.since}"`,
    );
  }
  const { config, logger } = cliContext(args);
  const store = await openStore(config, logger);
  try {
    const alerts = await createAlertStore(store).list({
      status: args.status as AlertStatus | undefined,
      since,
    });
    const lines = alerts.map((a) =>
      args.json
        ? JSON.stringify(alertJson(a))
        : `${new Date(a.first_seen).toISOString()}  ${a.severity.padEnd(8)} ${a.status.padEnd(9)} ${a.kind.padEnd(24)} ` +
          `×${a.count}  ${a.summary}  (${a.id})`,
    );
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await store.close();
  }
  return 0;
}
