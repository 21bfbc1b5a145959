import { describe, expect, it } from 'vitest';
import { createFingerprinter, redactSecrets } from './secrets.js';

const fp = createFingerprinter('test-key');

describe('redactSecrets()', () => {
  it('replaces a GitHub personal access token with its keyed fingerprint', () => {
    const secret = `ghp_${'a1B2'.repeat(9)}`;
    const out = redactSecrets(`{"token":{"id":"${secret}"}}`, fp);
    expect(out).not.toContain(secret);
    expect(out).toContain(fp(secret));
    expect(fp(secret)).toMatch(/^fp:[0-9a-f]{24}$/);
  });

  it('replaces a JWT and a bearer header', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXZhbHVl';
    const out = redactSecrets(`a ${jwt} b Bearer abcdefghijklmnopqrstu`, fp);
    expect(out).not.toContain(jwt);
    expect(out).not.toContain('abcdefghijklmnopqrstu');
  });

  it('leaves ordinary ids untouched and returns the same string', () => {
    const text = '{"token":{"id":"tok_42"},"request":{"source_ip":"10.0.0.1"}}';
    expect(redactSecrets(text, fp)).toBe(text);
  });

  it('gives different fingerprints under different keys', () => {
    expect(createFingerprinter('k1')('x')).not.toBe(createFingerprinter('k2')('x'));
  });
});
