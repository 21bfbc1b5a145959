import { days, type ScheduledDetector } from './types.js';

const DAY = 86_400_000;

/** `stale_unused`: a token used at least once, then not for `after` (30 days by default). */
export const staleUnused: ScheduledDetector = {
  kind: 'stale_unused',
  params: {
    after: { type: 'duration', default: 30 * DAY, min: 3_600_000, desc: 'time without a use' },
  },
  // Tokens never used are never_used's; this one needs a last use to measure from.
  condition: (p, bind) => `uses > 0 AND last_used_at <= {as_of:Int64} - ${bind(p.after, 'Int64')}`,
  finding(v, p) {
    const { t } = v;
    const lastUse = t.last_used_at as number;
    const idle = days(v.asOf - lastUse);
    return {
      // A later use starts a new idle period, and so a new alert.
      anchor: lastUse,
      since: lastUse + (p.after as number),
      summary:
        `${v.who} unused for ${idle} days: last used ${v.lastUsed}` +
        `${t.last_source_ip ? ` from ${t.last_source_ip}` : ''}, ${t.uses} uses since issue ${v.issued}; ` +
        `still grants ${v.grants}`,
      context: { ...v.context, idle_days: idle, after_days: days(p.after as number) },
      evidence: [t.last_use_event],
    };
  },
};
