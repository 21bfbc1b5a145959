/** A rule file Choir refuses to load; the message names file, rule and reason. */
export class RuleLoadError extends Error {
  readonly code = 'RULE_LOAD';
  /** Fixing the file is the only remedy: retrying the same file fails the same way. */
  readonly retriable = false;

  constructor(
    readonly file: string,
    readonly rule: string | undefined,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${rule === undefined ? '' : `: rule "${rule}"`}: ${reason}`, options);
    this.name = 'RuleLoadError';
  }
}
