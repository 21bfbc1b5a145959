/** A parsed JSON object of unknown shape. */
export type Json = Record<string, unknown>;

/**
 * Typed reads from parsed audit records. Each returns undefined for a missing or mistyped value
 * instead of throwing, so an adapter can say which field made a record unmappable.
 */
export const field = {
  obj(v: unknown): Json | undefined {
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  },
  /** A non-empty string; numbers are accepted because exports disagree on ids (`"123"` vs `123`). */
  str(v: unknown): string | undefined {
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    return typeof v === 'string' && v !== '' ? v : undefined;
  },
  num(v: unknown): number | undefined {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    return typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
  },
  arr(v: unknown): unknown[] | undefined {
    return Array.isArray(v) ? v : undefined;
  },
  /** Non-empty strings of an array, or of a comma-separated string (GitHub sends `token_scopes` both ways). */
  strs(v: unknown): string[] {
    const items = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : [];
    return items
      .filter((s): s is string => typeof s === 'string')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  },
  /** `at(rec, 'a', 'b')` is `rec.a.b` when every step is an object. */
  at(v: unknown, ...path: string[]): unknown {
    let cur = v;
    for (const key of path) {
      const o = field.obj(cur);
      if (!o) return undefined;
      cur = o[key];
    }
    return cur;
  },
};
