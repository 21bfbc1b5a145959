import { parseArgs } from 'node:util';
import { ChoirError, errorMessage } from '../errors.js';
import { alertsCommand } from './alerts.js';
import { demoCommand } from './demo.js';
import { ingestCommand } from './ingest.js';
import { keysCommand } from './keys.js';
import { replayCommand } from './replay.js';
import { rulesCommand } from './rules.js';
import { migrateCommand, serveCommand, sqlCommand } from './serve.js';
import { tokensCommand } from './tokens.js';
import { verifyCommand } from './verify.js';

const USAGE = `choir — audit and anomaly detection for service-account and API tokens

Usage:
  choir serve                      ingest over HTTP (and Kafka when configured) into the log
  choir demo [--tokens N]          serve on embedded storage, fed by a generated token world with incidents
  choir ingest FILE|- [--format F] read NDJSON from a file or stdin (formats: choir, k8s-audit, vault, cloudtrail, github)
  choir replay FILE|- [--format F] run every detector over the file on a fresh store; alerts as NDJSON on stdout
  choir rules test [--rules DIR] [--fixtures DIR]   run the rule fixtures through the live engine
  choir alerts list [--status S] [--since T]        alerts in their final state
  choir tokens [--status S] [--principal P] [--as-of T]   the token inventory: scopes used vs granted, open alerts
  choir migrate                    bring the ClickHouse schema up to date
  choir keys create --name N [--scopes ingest]   make an API key; prints the key once and its config entry
  choir sql "SELECT ..."           run a read-only query over the log
  choir verify [--from T] [--to T] recompute the hash chain of the log; exit 1 when it was tampered with

Options: --config FILE (YAML; environment overrides it), --json (data as JSON on stdout)`;

export interface CliArgs {
  positionals: string[];
  config?: string;
  json: boolean;
  format: string;
  name?: string;
  scopes: string;
  from?: string;
  to?: string;
  rules?: string;
  fixtures?: string;
  status?: string;
  since?: string;
  principal?: string;
  'as-of'?: string;
  tokens?: string;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      format: { type: 'string', default: 'choir' },
      name: { type: 'string' },
      scopes: { type: 'string', default: 'ingest' },
      from: { type: 'string' },
      to: { type: 'string' },
      rules: { type: 'string' },
      fixtures: { type: 'string' },
      status: { type: 'string' },
      since: { type: 'string' },
      principal: { type: 'string' },
      'as-of': { type: 'string' },
      tokens: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const args: CliArgs = { ...values, positionals: rest };
  switch (command) {
    case 'serve':
      return serveCommand(args);
    case 'demo':
      return demoCommand(args);
    case 'ingest':
      return ingestCommand(args);
    case 'migrate':
      return migrateCommand(args);
    case 'keys':
      return keysCommand(args);
    case 'sql':
      return sqlCommand(args);
    case 'replay':
      return replayCommand(args);
    case 'rules':
      return rulesCommand(args);
    case 'alerts':
      return alertsCommand(args);
    case 'tokens':
      return tokensCommand(args);
    case 'verify':
      return verifyCommand(args);
    default:
      process.stderr.write(`choir: unknown command "${command}"\n\n${USAGE}\n`);
      return 2;
  }
}

let settled = false;
// A command whose work was left waiting on nothing must not look like a success.
process.once('beforeExit', () => {
  if (!settled) {
    process.stderr.write('choir: internal error: the command stopped before it finished\n');
    process.exitCode = 70;
  }
});

main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (err) => {
    settled = true;
    // Expected failures (bad config, unreachable storage) get one clear line, not a stack trace.
    const prefix = err instanceof ChoirError ? `choir: ${err.code}: ` : 'choir: ';
    process.stderr.write(`${prefix}${errorMessage(err)}\n`);
    process.exitCode = err instanceof ChoirError && err.code === 'CONFIG_INVALID' ? 78 : 1;
  },
);
