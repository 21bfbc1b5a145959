/** The generated world's vocabulary: principals own credentials, a credential is a token that rotates. */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export type TokenKind = 'service_account' | 'user' | 'push_only' | 'team';
export type PrincipalKind = 'service' | 'user' | 'ci' | 'team';
/** How a credential's traffic follows the clock (see rhythm.ts). */
export type Rhythm = 'service' | 'business';

/** What a token is used for: prebuilt so a use allocates only its request object. */
export interface Operation {
  scope: string;
  action: string;
  method: string;
  path: string;
  resource: string;
}

export interface Principal {
  name: string;
  kind: PrincipalKind;
  tenant: string;
  /** /24 networks its tokens are used from, as `a.b.c` prefixes. */
  nets: string[];
  userAgent: string;
  scopes: string[];
  ops: Operation[];
  credentials: Credential[];
  disabledAt: number | null;
  /** An incident already involved it: incidents never overlap on one principal. */
  touched: boolean;
}

/** A recurring burst at a fixed minute: hourly, or daily at `hour`. */
export interface Cron {
  minute: number;
  hour: number | null;
  size: number;
  seconds: number;
}

/** One issued token and the facts the scheduled detectors judge it by. */
export interface Token {
  id: string;
  kind: TokenKind;
  principal: Principal;
  scopes: string[];
  allowedCidrs: string[];
  issuedAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  replaces: string;
  firstUse: number | null;
  lastUse: number | null;
  uses: number;
}

/** A logical credential (a service's API key, a CI publishing token) across its rotations. */
export interface Credential {
  principal: Principal;
  kind: TokenKind;
  current: Token;
  /** Networks this credential is used from (a subset of the principal's). */
  nets: string[];
  allowedCidrs: string[];
  /** Requests per minute at the busiest hour, before growth. */
  peak: number;
  rhythm: Rhythm;
  /** Relative growth of traffic per day. */
  growth: number;
  cron: Cron | null;
  /** Rotate every this many ms (Infinity: never); expiry is issuance + `lifetime` (null: none). */
  rotateEvery: number;
  lifetime: number | null;
  /** Traffic runs while true and before `trafficTo`. */
  active: boolean;
  trafficTo: number;
  /** First use of the credential (any of its tokens): when its learning periods began. */
  firstUse: number | null;
  /** Networks used so far in the round that shows each one early (see Traffic). */
  netsShown: number;
  generation: number;
}

/**
 * What an injected incident is, for scoring detectors: the kind an alert should have, the
 * token and/or principal it concerns, and when (event time, ms). Scheduled kinds are
 * labelled from token facts at the end (labels.ts), with time = the as-of time.
 */
export interface Label {
  kind: string;
  token_id: string;
  principal: string;
  time: number;
  end: number;
  /** Which scenario produced it (e.g. `push_misuse`), for per-scenario breakdowns. */
  scenario: string;
}
