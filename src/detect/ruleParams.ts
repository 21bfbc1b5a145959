import type { DetectorParams, ParamSpec } from './detectors/types.js';
import { formatDuration, parseDuration } from './duration.js';
import type { ParamValue } from './ruleSchema.js';

/** Every rule's alert dedup window: repeats within it are one alert. */
export const DEDUP_WINDOW: ParamSpec = {
  type: 'duration',
  default: 3_600_000,
  min: 1_000,
  max: 30 * 86_400_000,
  desc: 'repeats of a rule for one token within this window are one alert',
};

/**
 * Parameters of a built-in detector against its specs, with defaults filled in and
 * durations in ms. Returns an error message naming the parameter, or the values.
 */
export function detectorParams(
  raw: Record<string, ParamValue>,
  specs: Record<string, ParamSpec>,
): DetectorParams | string {
  const all = { dedup_window: DEDUP_WINDOW, ...specs };
  const unknown = Object.keys(raw).filter((k) => !(k in all));
  if (unknown.length > 0)
    return `unknown param(s) ${unknown.join(', ')}; known: ${Object.keys(all).join(', ')}`;
  const out: DetectorParams = {};
  for (const [name, spec] of Object.entries(all)) {
    const checked = name in raw ? checkParam(name, raw[name] as ParamValue, spec) : { value: spec.default };
    if ('error' in checked) return checked.error;
    out[name] = checked.value;
  }
  return out;
}

/** Parameters of a plain CEL rule: any names, strings that read as durations become ms. */
export function celParams(raw: Record<string, ParamValue>): Record<string, unknown> | string {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    out[name] = typeof value === 'string' ? (parseDuration(value) ?? value) : value;
  }
  const window = checkParam('dedup_window', raw.dedup_window ?? DEDUP_WINDOW.default, DEDUP_WINDOW);
  if ('error' in window) return window.error;
  out.dedup_window = window.value;
  return out;
}

type Checked = { value: number | string } | { error: string };

function checkParam(name: string, value: ParamValue, spec: ParamSpec): Checked {
  const fail = (must: string): Checked => ({
    error: `params.${name} must be ${must}, got ${JSON.stringify(value)}`,
  });
  if (spec.type === 'enum') {
    return typeof value === 'string' && spec.values?.includes(value)
      ? { value }
      : fail(`one of ${spec.values?.join('|')}`);
  }
  const number = spec.type === 'duration' && typeof value === 'string' ? parseDuration(value) : value;
  const example =
    spec.type === 'duration' ? `a duration like ${formatDuration(spec.default as number)}` : 'a number';
  if (typeof number !== 'number' || !Number.isFinite(number)) return fail(example);
  const shown = (n: number) => (spec.type === 'duration' ? formatDuration(n) : String(n));
  if (spec.min !== undefined && number < spec.min) return fail(`at least ${shown(spec.min)}`);
  if (spec.max !== undefined && number > spec.max) return fail(`at most ${shown(spec.max)}`);
  return { value: number };
}
