import { type Config, loadConfig } from '../config/config.js';
import { createLogger, type Logger } from '../logger.js';
import type { CliArgs } from './main.js';

/** Config and logger for a command: the only place that reads process.env. */
export function cliContext(args: CliArgs): { config: Config; logger: Logger } {
  const config = loadConfig({ file: args.config, env: process.env });
  return { config, logger: createLogger(config.log_level) };
}
