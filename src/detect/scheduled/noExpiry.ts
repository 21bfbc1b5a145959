import type { ScheduledDetector } from './types.js';

/**
 * `no_expiry`: an active token issued without `expires_at`, when the policy requires expiry
 * (`require_expiry`), for every kind or only the kinds listed in `kinds`.
 */
export const noExpiry: ScheduledDetector = {
  kind: 'no_expiry',
  params: {
    require_expiry: { type: 'boolean', default: true, desc: 'the policy requires every token to expire' },
    kinds: { type: 'list', default: [], desc: 'token kinds the policy applies to; empty: every kind' },
  },
  condition(p, bind) {
    if (p.require_expiry !== true) return null;
    const kinds = p.kinds as string[];
    return `expires_at IS NULL${kinds.length > 0 ? ` AND has(${bind(kinds, 'Array(String)')}, kind)` : ''}`;
  },
  finding(v) {
    const issued = v.t.issued_at as number;
    return {
      anchor: issued,
      since: issued,
      summary: `${v.who} was issued ${v.issued} without an expiry; grants ${v.grants}, last used ${v.lastUsed}`,
      context: v.context,
    };
  },
};
