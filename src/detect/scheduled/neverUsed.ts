import { days, type ScheduledDetector } from './types.js';

const DAY = 86_400_000;

/** `never_used`: a token issued at least `after` ago (14 days by default) and never used. */
export const neverUsed: ScheduledDetector = {
  kind: 'never_used',
  params: {
    after: { type: 'duration', default: 14 * DAY, min: 3_600_000, desc: 'time since issue without a use' },
  },
  condition: (p, bind) => `uses = 0 AND issued_at <= {as_of:Int64} - ${bind(p.after, 'Int64')}`,
  finding(v, p) {
    const issued = v.t.issued_at as number;
    return {
      anchor: issued,
      since: issued + (p.after as number),
      summary:
        `${v.who} never used in the ${days(v.asOf - issued)} days since issue ${v.issued}; ` +
        `grants ${v.grants}${v.t.expires_at === null ? ', never expires' : ''}`,
      context: { ...v.context, after_days: days(p.after as number) },
    };
  },
};
