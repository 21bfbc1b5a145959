import { isPlaceholderAddress, parseIPv4, parseIPv6 } from './net.js';

interface V4Range {
  base: number;
  size: number;
}
interface V6Range {
  groups: number[];
  bits: number;
}

/** A parsed list of CIDR blocks; entries that do not parse match nothing. */
export interface CidrMatcher {
  contains(ip: string): boolean;
}

/**
 * An allowlist check: true when `ip` is inside `matcher`, and also for the placeholders 0.0.0.0
 * and :: (the event has no address, so it was used from nowhere in particular, not from outside).
 */
export function allowedBy(matcher: CidrMatcher, ip: string): boolean {
  return matcher.contains(ip) || isPlaceholderAddress(ip);
}

/** Parse `203.0.113.0/24`, `2001:db8::/32` or a bare address; undefined when invalid. */
export function parseCidr(text: string): V4Range | V6Range | undefined {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const bitsText = slash >= 0 ? text.slice(slash + 1) : '';
  if (slash >= 0 && !/^\d{1,3}$/.test(bitsText)) return undefined;
  const v4 = parseIPv4(addr);
  if (v4 >= 0) {
    const bits = slash >= 0 ? Number(bitsText) : 32;
    if (bits > 32) return undefined;
    const size = 2 ** (32 - bits);
    return { base: Math.floor(v4 / size) * size, size };
  }
  const v6 = parseIPv6(addr);
  if (!v6) return undefined;
  const bits = slash >= 0 ? Number(bitsText) : 128;
  return bits > 128 ? undefined : { groups: v6, bits };
}

/** True when `text` is a valid CIDR block or address. */
export function isValidCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

/** Compile a CIDR list once; `contains` then parses only the address. */
export function compileCidrs(cidrs: readonly string[]): CidrMatcher {
  const v4: V4Range[] = [];
  const v6: V6Range[] = [];
  for (const text of cidrs) {
    const range = parseCidr(text);
    if (range && 'base' in range) v4.push(range);
    else if (range) v6.push(range);
  }
  return {
    contains(ip: string): boolean {
      const addr = parseIPv4(ip);
      if (addr >= 0) {
        for (const r of v4) if (addr >= r.base && addr < r.base + r.size) return true;
        return false;
      }
      if (v6.length === 0) return false;
      const groups = parseIPv6(ip);
      return groups !== undefined && v6.some((r) => v6Contains(r, groups));
    },
  };
}

function v6Contains(range: V6Range, groups: number[]): boolean {
  for (let bit = 0, g = 0; bit < range.bits; bit += 16, g++) {
    const shift = 16 - Math.min(16, range.bits - bit);
    if ((groups[g] as number) >>> shift !== (range.groups[g] as number) >>> shift) return false;
  }
  return true;
}
