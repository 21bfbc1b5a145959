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

/**
 * One tracked token. Times are epoch ms, `Infinity` when the thing never happened, so a
 * condition such as `event.time > token.revoked_at` is false for a token never revoked.
 * Fields are plain so CEL and the prefilters read them without getters.
 */
export class TokenRecord {
  /** An issuance was seen (or seeded): scopes, kind and expiry are facts, not guesses. */
  known = false;
  /** Accepted as issued before the stored history began (see unknown_token `bootstrap`). */
  preexisting = false;
  kind = '';
  principal = '';
  tenant = '';
  scopes: readonly string[] = NONE;
  allowed_cidrs: readonly string[] = NONE;
  issued_at = Number.POSITIVE_INFINITY;
  expires_at = Number.POSITIVE_INFINITY;
  revoked_at = Number.POSITIVE_INFINITY;
  replaces = '';
  /** Uses seen before the current event (rules see history, the engine updates after them). */
  first_used_at = Number.POSITIVE_INFINITY;
  last_used_at = Number.POSITIVE_INFINITY;
  uses = 0;
  /** Second-chance bit for eviction. */
  ref = true;

  /** `n`: the token's number in its table (detectors index their per-token state by it), -1 outside one. */
  constructor(
    readonly id: string,
    readonly n = -1,
  ) {}

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
