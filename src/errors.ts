/**
 * Every failure that crosses a module boundary is a ChoirError with a stable `code`.
 * `retriable` tells the caller what to do: retry and do not acknowledge (true),
 * or give up on this input and dead-letter it / report it to the user (false).
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_QUERY_FAILED'
  | 'MIGRATION_FAILED'
  | 'KAFKA_FAILED'
  | 'INPUT_INVALID'
  | 'NOT_FOUND';

export class ChoirError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ChoirError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }
}

/** Wrap a ClickHouse failure. Connection and server-side transient errors are retriable. */
export function storageError(what: string, cause: unknown): ChoirError {
  if (cause instanceof ChoirError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  // Syntax and type errors in our own SQL are bugs, not outages: retrying them would spin forever.
  const permanent =
    /SYNTAX_ERROR|Syntax error|UNKNOWN_IDENTIFIER|UNKNOWN_TABLE|TYPE_MISMATCH|ILLEGAL_TYPE|CANNOT_PARSE/.test(
      message,
    );
  return new ChoirError(permanent ? 'STORAGE_QUERY_FAILED' : 'STORAGE_UNAVAILABLE', `${what}: ${message}`, {
    retriable: !permanent,
    cause,
  });
}

export function isRetriable(err: unknown): boolean {
  return err instanceof ChoirError ? err.retriable : true;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
