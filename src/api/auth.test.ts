import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, hashApiKey, newApiKey } from './auth.js';

const req = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;

describe('createAuthenticator()', () => {
  const ingest = newApiKey();
  const reader = newApiKey();
  const auth = createAuthenticator([
    { name: 'ci', hash: ingest.hash, scopes: ['ingest'] },
    { name: 'dash', hash: reader.hash, scopes: ['read'] },
  ]);

  it('accepts a known key that has the scope', () => {
    expect(auth(req(`Bearer ${ingest.key}`), 'ingest')).toEqual({ ok: true, name: 'ci' });
  });

  it('answers 401 without a key, with a malformed header and with an unknown key', () => {
    expect(auth(req(), 'ingest')).toEqual({ ok: false, status: 401 });
    expect(auth(req(`Basic ${ingest.key}`), 'ingest')).toEqual({ ok: false, status: 401 });
    expect(auth(req('Bearer choir_nope'), 'ingest')).toEqual({ ok: false, status: 401 });
  });

  it('answers 403 to a known key without the scope', () => {
    expect(auth(req(`Bearer ${reader.key}`), 'ingest')).toEqual({ ok: false, status: 403 });
  });

  it('stores only a hash, never the key', () => {
    expect(ingest.hash).toBe(hashApiKey(ingest.key));
    expect(ingest.hash).not.toContain(ingest.key);
  });
});
