/** Per-token facts every rule reads as `token`, plus the detector state hung off the token. */

const NONE: readonly string[] = Object.freeze([]);

/** Issuance-time facts of a token, as a store or inventory can supply them (times epoch ms). */
export interface TokenFacts {
  id: string;
  kind: string;
  principal: string;
  tenant: string;
  scopes: readonly string[];
  allowed_cidrs: readonly string[];
  issued_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  replaces: string;
}

/** Shares equal lists and strings between the records of a million tokens. */
export interface Interner {
  intern(list: readonly string[]): readonly string[];
  internString(text: string): string;
}

// Times of a record in its TimeColumns row.
const ISSUED = 0;
const EXPIRES = 1;
const REVOKED = 2;
const FIRST_USE = 3;
const LAST_USE = 4;
const TIMES = 5;
// Bits of TokenRecord.flags.
const KNOWN = 1;
const PREEXISTING = 2;
const REF = 4;

/**
 * The times of a table's records, five doubles a token in one Float64Array: as object fields
 * each would be a 16-byte heap box of its own (epoch ms do not fit a small integer), 80 bytes a
 * token. Row `n` starts at `base + n * 5`; a record outside any table has its own row at n = -1.
 */
export class TimeColumns {
  values: Float64Array;

  constructor(
    rows: number,
    readonly base = 0,
  ) {
    this.values = new Float64Array(base + rows * TIMES).fill(Number.POSITIVE_INFINITY);
  }

  /** A fresh row `n` (every time never happened), growing the column when needed. */
  reset(n: number): void {
    const end = this.base + (n + 1) * TIMES;
    if (end > this.values.length) {
      const bigger = new Float64Array(Math.max(end, this.values.length * 2)).fill(Number.POSITIVE_INFINITY);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values.fill(Number.POSITIVE_INFINITY, end - TIMES, end);
  }
}

/**
 * One tracked token. Times are epoch ms, `Infinity` when the thing never happened, so a
 * condition such as `event.time > token.revoked_at` is false for a token never revoked.
 * Times live in the table's TimeColumns and flags in one small integer, behind accessors that
 * CEL and the prefilters read like fields.
 */
export class TokenRecord {
  kind = '';
  principal = '';
  tenant = '';
  scopes: readonly string[] = NONE;
  allowed_cidrs: readonly string[] = NONE;
  replaces = '';
  /** Uses seen before the current event (rules see history, the engine updates after them). */
  uses = 0;
  private flags = REF;
  private readonly times: TimeColumns;

  /** `n`: the token's number in its table (detectors index their per-token state by it), -1 outside one. */
  constructor(
    readonly id: string,
    readonly n = -1,
    times?: TimeColumns,
  ) {
    this.times = times ?? new TimeColumns(1, TIMES);
  }

  /** An issuance was seen (or seeded): scopes, kind and expiry are facts, not guesses. */
  get known(): boolean {
    return (this.flags & KNOWN) !== 0;
  }
  set known(on: boolean) {
    this.flags = on ? this.flags | KNOWN : this.flags & ~KNOWN;
  }
  /** Accepted as issued before the stored history began (see unknown_token `bootstrap`). */
  get preexisting(): boolean {
    return (this.flags & PREEXISTING) !== 0;
  }
  set preexisting(on: boolean) {
    this.flags = on ? this.flags | PREEXISTING : this.flags & ~PREEXISTING;
  }
  /** Second-chance bit for eviction. */
  get ref(): boolean {
    return (this.flags & REF) !== 0;
  }
  set ref(on: boolean) {
    this.flags = on ? this.flags | REF : this.flags & ~REF;
  }

  get issued_at(): number {
    return this.time(ISSUED);
  }
  set issued_at(ms: number) {
    this.setTime(ISSUED, ms);
  }
  get expires_at(): number {
    return this.time(EXPIRES);
  }
  set expires_at(ms: number) {
    this.setTime(EXPIRES, ms);
  }
  get revoked_at(): number {
    return this.time(REVOKED);
  }
  set revoked_at(ms: number) {
    this.setTime(REVOKED, ms);
  }
  get first_used_at(): number {
    return this.time(FIRST_USE);
  }
  set first_used_at(ms: number) {
    this.setTime(FIRST_USE, ms);
  }
  get last_used_at(): number {
    return this.time(LAST_USE);
  }
  set last_used_at(ms: number) {
    this.setTime(LAST_USE, ms);
  }

  /** Where field `field` of this token's times lives in the table's columns. */
  private slot(field: number): number {
    return this.times.base + this.n * TIMES + field;
  }
  private time(field: number): number {
    return this.times.values[this.slot(field)] as number;
  }
  private setTime(field: number, ms: number): void {
    this.times.values[this.slot(field)] = ms;
  }

  /** Count a use at `time` (first and last use, uses), with one look-up of the row. */
  recordUse(time: number): void {
    const values = this.times.values;
    const at = this.slot(0);
    if (time < (values[at + FIRST_USE] as number)) values[at + FIRST_USE] = time;
    if (this.uses === 0 || time > (values[at + LAST_USE] as number)) values[at + LAST_USE] = time;
    this.uses++;
  }

  /** Overwrite issuance facts (`intern` shares equal scope and CIDR lists between tokens). */
  applyFacts(facts: TokenFacts, intern: Interner): void {
    this.known = true;
    this.kind = intern.internString(facts.kind);
    this.principal = intern.internString(facts.principal);
    this.tenant = intern.internString(facts.tenant);
    this.scopes = intern.intern(facts.scopes);
    this.allowed_cidrs = intern.intern(facts.allowed_cidrs);
    this.issued_at = facts.issued_at ?? Number.POSITIVE_INFINITY;
    this.expires_at = facts.expires_at ?? Number.POSITIVE_INFINITY;
    this.revoked_at = Math.min(this.revoked_at, facts.revoked_at ?? Number.POSITIVE_INFINITY);
    this.replaces = facts.replaces;
  }

  /** The facts back out, with `null` for times that never happened. */
  facts(): TokenFacts {
    return {
      id: this.id,
      kind: this.kind,
      principal: this.principal,
      tenant: this.tenant,
      scopes: this.scopes,
      allowed_cidrs: this.allowed_cidrs,
      issued_at: finiteOrNull(this.issued_at),
      expires_at: finiteOrNull(this.expires_at),
      revoked_at: finiteOrNull(this.revoked_at),
      replaces: this.replaces,
    };
  }
}

/** `Infinity` (never) as JSON-friendly null. */
export function finiteOrNull(ms: number): number | null {
  return Number.isFinite(ms) ? ms : null;
}

/** JSON null back to `Infinity` (never). */
export function nullToNever(ms: number | null | undefined): number {
  return ms ?? Number.POSITIVE_INFINITY;
}
