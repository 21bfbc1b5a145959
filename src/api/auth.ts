import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ApiKeyConfig } from '../config/config.js';

export type AuthResult = { ok: true; name: string } | { ok: false; status: 401 | 403 };

export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** A new key: shown once to the user; only its hash goes into the config. */
export function newApiKey(): { key: string; hash: string } {
  const key = `choir_${randomBytes(24).toString('base64url')}`;
  return { key, hash: hashApiKey(key) };
}

/**
 * Bearer API keys, compared by hash in constant time. The caller learns only 401 (no or unknown
 * key) or 403 (known key, missing scope): never which part was wrong or which keys exist.
 */
export function createAuthenticator(
  keys: ApiKeyConfig[],
): (req: IncomingMessage, scope: string) => AuthResult {
  const known = keys.map((k) => ({ ...k, digest: Buffer.from(k.hash.slice('sha256:'.length), 'hex') }));
  return (req, scope) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return { ok: false, status: 401 };
    const digest = createHash('sha256').update(m[1]!).digest();
    let match: (typeof known)[number] | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, digest)) match = k;
    if (!match) return { ok: false, status: 401 };
    if (!match.scopes.includes(scope) && !match.scopes.includes('*')) return { ok: false, status: 403 };
    return { ok: true, name: match.name };
  };
}
