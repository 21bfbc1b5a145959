import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from './config.js';

/**
 * The HMAC key for fingerprints: `security.fingerprint_key`, else a key generated once and kept
 * next to the embedded data directory (readable by its owner only). Instances of one cluster
 * must share a configured key, or the same secret would get different fingerprints.
 */
export function resolveFingerprintKey(config: Config): string {
  if (config.security.fingerprint_key) return config.security.fingerprint_key;
  const file = join(dirname(config.storage.data_dir), 'fingerprint.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const key = randomBytes(32).toString('hex');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
