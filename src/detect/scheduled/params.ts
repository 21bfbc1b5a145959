import { formatDuration, parseDuration } from '../duration.js';
import type { ParamValue } from '../ruleSchema.js';

/**
 * How a scheduled detector's parameter is written. `durations_by_key` is a list of `key=duration`
 * strings (`[push_only=30d, user=180d]`): rule params are scalars or lists, never mappings.
 */
export type ScheduledParamSpec =
  | { type: 'duration'; default: number; min: number; desc: string }
  | { type: 'boolean'; default: boolean; desc: string }
  | { type: 'list'; default: string[]; desc: string }
  | { type: 'durations_by_key'; default: Record<string, number>; min: number; desc: string };

export type ScheduledParamValue = number | boolean | string[] | Record<string, number>;
export type ScheduledParams = Record<string, ScheduledParamValue>;

/** Check `raw` against `specs`, defaults filled in, durations in ms; an error message naming the param otherwise. */
export function scheduledParams(
  raw: Record<string, ParamValue>,
  specs: Record<string, ScheduledParamSpec>,
): ScheduledParams | string {
  const unknown = Object.keys(raw).filter((k) => !(k in specs));
  if (unknown.length > 0)
    return `unknown param(s) ${unknown.join(', ')}; known: ${Object.keys(specs).join(', ') || 'none'}`;
  const out: ScheduledParams = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (!(name in raw)) {
      out[name] = spec.default;
      continue;
    }
    const value = check(name, raw[name] as ParamValue, spec);
    if (typeof value === 'string') return value;
    out[name] = value.ok;
  }
  return out;
}

function check(
  name: string,
  value: ParamValue,
  spec: ScheduledParamSpec,
): { ok: ScheduledParamValue } | string {
  const fail = (must: string) => `params.${name} must be ${must}, got ${JSON.stringify(value)}`;
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? { ok: value } : fail('true or false');
    case 'list':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? { ok: value as string[] }
        : fail('a list of strings');
    case 'duration': {
      const ms = duration(value);
      if (ms === undefined) return fail(`a duration like ${formatDuration(spec.default)}`);
      return ms < spec.min ? fail(`at least ${formatDuration(spec.min)}`) : { ok: ms };
    }
    case 'durations_by_key': {
      const must = `a list of key=duration entries like [push_only=30d, user=180d], each at least ${formatDuration(spec.min)}`;
      if (!Array.isArray(value)) return fail(must);
      const out: Record<string, number> = {};
      for (const entry of value) {
        const [key, text, extra] = String(entry).split('=');
        const ms = text === undefined ? undefined : parseDuration(text);
        if (!key?.trim() || extra !== undefined || ms === undefined || ms < spec.min) return fail(must);
        out[key.trim()] = ms;
      }
      return { ok: out };
    }
  }
}

function duration(value: ParamValue): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return typeof value === 'string' ? parseDuration(value) : undefined;
}
