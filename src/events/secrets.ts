import { createHmac } from 'node:crypto';

/**
 * Shapes of well-known credentials. A value that matches is a secret that reached us by mistake
 * (a producer that sent the token instead of its id): it is replaced by a keyed fingerprint
 * before anything is stored or logged.
 */
const SECRET_SHAPES = new RegExp(
  [
    'gh[pousr]_[A-Za-z0-9]{30,}',
    'github_pat_[A-Za-z0-9_]{22,}',
    'glpat-[A-Za-z0-9_-]{20,}',
    'xox[abposr]-[A-Za-z0-9-]{10,}',
    '(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}',
    'AIza[0-9A-Za-z_-]{35}',
    'npm_[A-Za-z0-9]{36}',
    'hv[sb]\\.[A-Za-z0-9_-]{20,}',
    'eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}',
    '-----BEGIN [A-Z ]*PRIVATE KEY-----',
    '[Bb]earer [A-Za-z0-9._~+/-]{16,}=*',
  ].join('|'),
  'g',
);

export type Fingerprinter = (secret: string) => string;

/** `fp:` + 24 hex chars of HMAC-SHA256(key, secret): stable for one key, useless without it. */
export function createFingerprinter(key: string): Fingerprinter {
  return (secret) => `fp:${createHmac('sha256', key).update(secret).digest('hex').slice(0, 24)}`;
}

/** Replace every secret-shaped substring; returns the input itself when there is none (the common case). */
export function redactSecrets(text: string, fingerprint: Fingerprinter): string {
  SECRET_SHAPES.lastIndex = 0;
  if (!SECRET_SHAPES.test(text)) return text;
  return text.replace(SECRET_SHAPES, (m) => fingerprint(m));
}
