/**
 * What the log says about every token as of one moment of event time: one aggregation over
 * `token_events` that the scheduled detectors and the inventory both read. Only events with
 * `time <= {as_of:Int64}` (epoch ms) count, so a replay and live ingestion see the same state.
 */

/** `active` (issued, not revoked, not expired), `expired`, `revoked`, or `unknown` (used, never issued). */
export type TokenStatus = 'active' | 'expired' | 'revoked' | 'unknown';

/** One row of tokenStateSql; times are epoch ms, null when the thing never happened. */
export interface TokenState {
  token_id: string;
  status: TokenStatus;
  kind: string;
  principal: string;
  tenant: string;
  /** The `source` of the issuance event (the issuing system). */
  source: string;
  scopes: string[];
  allowed_cidrs: string[];
  replaces: string;
  issued_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  uses: number;
  first_used_at: number | null;
  last_used_at: number | null;
  last_source_ip: string;
  issue_event: string;
  last_use_event: string;
  /** Earliest disable of the token's principal, and that event. */
  disabled_at: number | null;
  disable_event: string;
  /** The newest token issued with `replaces` naming this one. */
  replaced_by: string;
}

/** With `usage`: distinct source addresses and the scopes the token actually used. */
export interface TokenUsage {
  sources: number;
  used_scopes: string[];
}

const FACT_COLUMNS = [
  'token_id',
  'kind',
  'principal',
  'tenant',
  'source',
  'scopes',
  'allowed_cidrs',
  'replaces',
  'issued_at',
  'expires_at',
  'revoked_at',
  'uses',
  'first_used_at',
  'last_used_at',
  'last_source_ip',
  'issue_event',
  'last_use_event',
];
const USAGE_COLUMNS = ['sources', 'used_scopes'];

const AS_OF = `fromUnixTimestamp64Milli({as_of:Int64}, 'UTC')`;

/**
 * SELECT of one row per token id seen in a token event up to `{as_of:Int64}`. The facts of the
 * latest issuance win (a re-issue overwrites, as in the stream engine); a token is revoked from
 * its first revocation; a principal counts as disabled from its first `principal.disabled`.
 */
export function tokenStateSql(db: string, options: { usage?: boolean } = {}): string {
  const usage = options.usage
    ? `,
        uniqExactIf(source_ip, is_use AND source_ip != '') AS sources,
        arraySort(groupUniqArrayIf(request_scope, is_use AND request_scope != '')) AS used_scopes`
    : '';
  const columns = [...FACT_COLUMNS, ...(options.usage ? USAGE_COLUMNS : [])];
  return `
SELECT
  ${columns.map((c) => `t.${c} AS ${c}`).join(', ')},
  multiIf(t.revoked_at IS NOT NULL, 'revoked',
          t.expires_at IS NOT NULL AND t.expires_at <= {as_of:Int64}, 'expired',
          t.issued_at IS NOT NULL, 'active', 'unknown') AS status,
  d.disabled_at AS disabled_at,
  d.disable_event AS disable_event,
  r.replaced_by AS replaced_by
FROM (
  WITH type = 'token.issued' AS is_issue, type = 'token.used' AS is_use
  SELECT
    token_id,
    argMaxIf(token_kind, time, is_issue) AS kind,
    if(countIf(is_issue) > 0, argMaxIf(principal, time, is_issue), anyIf(principal, principal != '')) AS principal,
    if(countIf(is_issue) > 0, argMaxIf(tenant, time, is_issue), anyIf(tenant, tenant != '')) AS tenant,
    argMaxIf(source, time, is_issue) AS source,
    argMaxIf(scopes, time, is_issue) AS scopes,
    argMaxIf(allowed_cidrs, time, is_issue) AS allowed_cidrs,
    argMaxIf(replaces, time, is_issue) AS replaces,
    toUnixTimestamp64Milli(maxIfOrNull(time, is_issue)) AS issued_at,
    -- 0 stands for "no expiry" inside the aggregate: an aggregate would skip a NULL argument.
    nullIf(argMaxIf(ifNull(toUnixTimestamp64Milli(expires_at), 0), time, is_issue), 0) AS expires_at,
    toUnixTimestamp64Milli(minIfOrNull(time, type = 'token.revoked')) AS revoked_at,
    countIf(is_use) AS uses,
    toUnixTimestamp64Milli(minIfOrNull(time, is_use)) AS first_used_at,
    toUnixTimestamp64Milli(maxIfOrNull(time, is_use)) AS last_used_at,
    argMaxIf(source_ip, time, is_use) AS last_source_ip,
    argMaxIf(id, time, is_issue) AS issue_event,
    argMaxIf(id, time, is_use) AS last_use_event${usage}
  FROM ${db}.token_events
  WHERE token_id != '' AND time <= ${AS_OF}
  GROUP BY token_id
) AS t
LEFT JOIN (
  SELECT principal, toNullable(toUnixTimestamp64Milli(min(time))) AS disabled_at,
         argMin(id, time) AS disable_event
  FROM ${db}.token_events
  WHERE type = 'principal.disabled' AND principal != '' AND time <= ${AS_OF}
  GROUP BY principal
) AS d ON d.principal = t.principal
LEFT JOIN (
  SELECT replaces AS replaced, argMax(token_id, time) AS replaced_by
  FROM ${db}.token_events
  WHERE type = 'token.issued' AND replaces != '' AND time <= ${AS_OF}
  GROUP BY replaces
) AS r ON r.replaced = t.token_id`;
}
