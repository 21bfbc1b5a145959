import type { TokenState } from '../../store/tokenState.js';
import type { ScheduledParamSpec, ScheduledParams } from './params.js';

export type { TokenState } from '../../store/tokenState.js';

/** Makes a query parameter of `value` and returns its placeholder, e.g. `{p3:Int64}`. */
export type Bind = (value: unknown, type: string) => string;

/** What a scheduled detector reports about one token; times are epoch ms. */
export interface ScheduledFinding {
  /** Event time the finding is tied to; part of the alert id, so it must not move between runs. */
  anchor: number;
  /** When the condition became true (the alert's first_seen). */
  since: number;
  summary: string;
  context: Record<string, string | number | boolean>;
  /** Event ids a responder opens first, besides the issuance. */
  evidence?: string[];
}

/**
 * A hygiene check over the token state of tokenStateSql, as of an event time. Only active
 * tokens (issued, not revoked, not expired as of that time) are ever considered.
 */
export interface ScheduledDetector {
  kind: string;
  params: Record<string, ScheduledParamSpec>;
  /** Boolean SQL over the token state columns, `{as_of:Int64}` included; null when the params disable it. */
  condition(params: ScheduledParams, bind: Bind): string | null;
  finding(token: TokenView, params: ScheduledParams): ScheduledFinding;
}

const DAY = 86_400_000;

/** Whole days in `ms`, for summaries (`31 days`). */
export function days(ms: number): number {
  return Math.floor(ms / DAY);
}

export function iso(ms: number | null): string {
  return ms === null ? 'never' : new Date(ms).toISOString();
}

/**
 * A found token as the detectors describe it: its times as text and the context every hygiene
 * alert carries, made once per token and run however many rules find it.
 */
export interface TokenView {
  t: TokenState;
  asOf: number;
  /** `Token tok-1 (service_account of sa-ci)`: how every hygiene summary names a token. */
  who: string;
  issued: string;
  lastUsed: string;
  /** Granted scopes, comma-separated, or `no scopes`. */
  grants: string;
  context: Record<string, string | number | boolean>;
}

export function tokenView(t: TokenState, asOf: number, asOfIso: string): TokenView {
  const issued = iso(t.issued_at);
  const lastUsed = iso(t.last_used_at);
  return {
    t,
    asOf,
    who: `Token ${t.token_id} (${t.kind || 'unknown kind'}${t.principal ? ` of ${t.principal}` : ''})`,
    issued,
    lastUsed,
    grants: t.scopes.join(', ') || 'no scopes',
    context: {
      token_kind: t.kind,
      principal: t.principal,
      issued_at: issued,
      expires_at: iso(t.expires_at),
      last_used_at: lastUsed,
      uses: t.uses,
      age_days: t.issued_at === null ? 0 : days(asOf - t.issued_at),
      scopes: t.scopes.join(','),
      as_of: asOfIso,
      ...(t.replaces ? { replaces: t.replaces } : {}),
      ...(t.replaced_by ? { replaced_by: t.replaced_by } : {}),
    },
  };
}
