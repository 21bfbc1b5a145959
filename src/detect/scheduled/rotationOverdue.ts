import { days, type ScheduledDetector } from './types.js';

const DAY = 86_400_000;

/**
 * `rotation_overdue`: an active token older than `max_age` (90 days by default), or than its
 * kind's entry in `max_age_by_kind`. A rotated token that was revoked is not active, so not
 * overdue; one replaced but still working is, and the summary says so.
 */
export const rotationOverdue: ScheduledDetector = {
  kind: 'rotation_overdue',
  params: {
    max_age: { type: 'duration', default: 90 * DAY, min: DAY, desc: 'age at which a token must be rotated' },
    max_age_by_kind: {
      type: 'durations_by_key',
      default: {},
      min: DAY,
      desc: 'per token kind, e.g. [push_only=30d, user=180d]',
    },
  },
  condition(p, bind) {
    const byKind = p.max_age_by_kind as Record<string, number>;
    const maxAge = `transform(kind, ${bind(Object.keys(byKind), 'Array(String)')}, ${bind(
      Object.values(byKind),
      'Array(Int64)',
    )}, ${bind(p.max_age, 'Int64')})`;
    return `issued_at <= {as_of:Int64} - ${maxAge}`;
  },
  finding(v, p) {
    const { t } = v;
    const issued = t.issued_at as number;
    const maxAge = (p.max_age_by_kind as Record<string, number>)[t.kind] ?? (p.max_age as number);
    const replaced = t.replaced_by ? `; replaced by ${t.replaced_by} but not revoked` : '';
    return {
      anchor: issued,
      since: issued + maxAge,
      summary:
        `${v.who} is ${days(v.asOf - issued)} days old, over the ${days(maxAge)}-day rotation limit` +
        ` (issued ${v.issued}, last used ${v.lastUsed})${replaced}`,
      context: { ...v.context, max_age_days: days(maxAge) },
      evidence: t.last_use_event ? [t.last_use_event] : [],
    };
  },
};
