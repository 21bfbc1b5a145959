import { iso, type ScheduledDetector } from './types.js';

/**
 * `orphaned_token`: the token's principal was disabled at least `grace` ago (time for the
 * offboarding to revoke its tokens) and the token still works: not revoked, not expired.
 * The stream rule of the same kind fires when such a token is used; this one fires on existence.
 */
export const orphanedToken: ScheduledDetector = {
  kind: 'orphaned_token',
  params: {
    grace: { type: 'duration', default: 3_600_000, min: 0, desc: 'time after the disable to revoke tokens' },
  },
  condition: (p, bind) =>
    `disabled_at IS NOT NULL AND disabled_at <= {as_of:Int64} - ${bind(p.grace, 'Int64')}`,
  finding(v, p) {
    const { t } = v;
    const disabled = t.disabled_at as number;
    return {
      anchor: disabled,
      since: Math.max(disabled + (p.grace as number), t.issued_at as number),
      summary:
        `${v.who} still active although principal ${t.principal} was disabled ${iso(disabled)}; ` +
        `grants ${v.grants}, last used ${v.lastUsed}`,
      context: { ...v.context, disabled_at: iso(disabled) },
      evidence: [t.disable_event, t.last_use_event],
    };
  },
};
