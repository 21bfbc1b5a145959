import pino, { type Logger } from 'pino';

export type { Logger };

/** Logs go to stderr as JSON, so stdout stays free for data (`--json`, `replay`). */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { app: 'choir' },
      // Defence in depth: a field that could carry a credential is never written out.
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', 'apiKey', '*.apiKey', 'secret'],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
