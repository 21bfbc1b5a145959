import { newApiKey } from '../api/auth.js';
import type { CliArgs } from './main.js';

/** `choir keys create`: the key is printed once; only its hash belongs in the config. */
export async function keysCommand(args: CliArgs): Promise<number> {
  if (args.positionals[0] !== 'create' || !args.name) {
    process.stderr.write('usage: choir keys create --name NAME [--scopes ingest,read]\n');
    return 2;
  }
  const scopes = args.scopes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const { key, hash } = newApiKey();
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ name: args.name, key, hash, scopes })}\n`);
    return 0;
  }
  process.stdout.write(
    `API key (shown once, store it in your secret manager):\n  ${key}\n\n` +
      `Add to your config under http.api_keys:\n  - name: ${args.name}\n    hash: ${hash}\n    scopes: [${scopes.join(', ')}]\n`,
  );
  return 0;
}
