// Date, time, optional fraction, optional zone. A space instead of `T` and a missing zone are what
// Panther-style exports write ("2022-11-29 00:09:04.38"); both mean UTC.
const STAMP = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d+))?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/i;

/**
 * An audit timestamp as contract time: RFC 3339, UTC, exactly milliseconds
 * (`2026-01-31T12:00:00.123Z`). Accepts RFC 3339 with any fraction, the zone-less exports
 * above, and epoch milliseconds (GitHub `@timestamp`). Fractions are truncated, not rounded,
 * so a time never moves into the next second.
 */
export function eventTime(value: unknown): string | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value > 0 ? valid(new Date(Math.trunc(value))) : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const m = STAMP.exec(value.trim());
  if (!m) return undefined;
  const ms = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  let zone = (m[4] ?? 'Z').toUpperCase();
  if (zone === 'UTC') zone = 'Z';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return valid(new Date(`${m[1]}T${m[2]}.${ms}${zone}`));
}

/** The first of `values` that is a usable time. */
export function firstEventTime(...values: unknown[]): string | undefined {
  for (const v of values) {
    const t = eventTime(v);
    if (t) return t;
  }
  return undefined;
}

function valid(d: Date): string | undefined {
  const t = d.getTime();
  // Years outside 0000-9999 would serialise as ±YYYYYY, which the contract's pattern rejects.
  return Number.isNaN(t) || t < -62167219200000 || t > 253402300799999 ? undefined : d.toISOString();
}
