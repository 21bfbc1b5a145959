import type { ParamSpec } from './types.js';

/** Prefix lengths that define "one network" for the source detectors. */
export const NETWORK_PARAMS: Record<string, ParamSpec> = {
  prefix_v4: { type: 'number', default: 24, min: 8, max: 32, desc: 'IPv4 prefix length of a network' },
  prefix_v6: {
    type: 'number',
    default: 64,
    min: 16,
    max: 128,
    desc: 'IPv6 prefix length of a network (48 or 64)',
  },
};

/** Validated number arrays from a snapshot (state of unknown shape is dropped, not trusted). */
export function numberArray(json: unknown): number[] | undefined {
  return Array.isArray(json) && json.every((n) => typeof n === 'number') ? [...json] : undefined;
}
