/** IP parsing and network keys, written to avoid allocation for IPv4 (the common case). */

/** The address as an unsigned 32-bit number, or -1 when `text` is not dotted-quad IPv4. */
export function parseIPv4(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** The eight 16-bit groups of an IPv6 address (zone and embedded IPv4 allowed), or undefined. */
export function parseIPv6(text: string): number[] | undefined {
  const zone = text.indexOf('%');
  const addr = zone >= 0 ? text.slice(0, zone) : text;
  if (!addr.includes(':')) return undefined;
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return [...head, ...new Array<number>(Math.max(0, missing)).fill(0), ...tail];
}

function groups(text: string): number[] | undefined {
  if (text === '') return [];
  const out: number[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (v4 < 0) return undefined;
      out.push(Math.floor(v4 / 65536), v4 % 65536);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      out.push(Number.parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return out;
}

const V6_BASE = 2 ** 32;
const V6_SPAN = 2 ** 52;

/**
 * A number naming the network `ip` belongs to: exact for IPv4 (below 2^32), a 52-bit hash of
 * the prefix for IPv6 (at or above 2^32), -1 when `ip` is not an address.
 */
/** 2^n for n in 0..32: `2 ** n` of a variable n is a call to C's pow, twice an event here. */
const POW2 = Array.from({ length: 33 }, (_, n) => 2 ** n);

export function networkKey(ip: string, v4Prefix: number, v6Prefix: number): number {
  const v4 = parseIPv4(ip);
  // 0.0.0.0 and :: are what adapters write when the log has no address (CloudTrail service calls).
  if (v4 > 0) return Math.floor(v4 / (POW2[32 - v4Prefix] ?? 2 ** (32 - v4Prefix)));
  if (v4 === 0) return -1;
  const v6 = parseIPv6(ip);
  if (!v6 || isZero(v6)) return -1;
  // FNV-1a over the prefix bits, folded into doubles so the key stays an exact integer.
  let hash = 2166136261;
  let hi = 0;
  for (let bit = 0, g = 0; bit < v6Prefix; bit += 16, g++) {
    const keep = Math.min(16, v6Prefix - bit);
    const value = ((v6[g] as number) >>> (16 - keep)) << (16 - keep);
    hash = Math.imul(hash ^ value, 16777619) >>> 0;
    hi = (hi * 31 + value) % 1048576;
  }
  return V6_BASE + ((hi * 2 ** 32 + hash) % V6_SPAN);
}

/** True for 0.0.0.0 and :: (any spelling): an adapter's placeholder for "no address", not a place. */
export function isPlaceholderAddress(ip: string): boolean {
  const v4 = parseIPv4(ip);
  if (v4 >= 0) return v4 === 0;
  const v6 = parseIPv6(ip);
  return v6 !== undefined && isZero(v6);
}

function isZero(groups: readonly number[]): boolean {
  for (const g of groups) if (g !== 0) return false;
  return true;
}

/** The network of `ip` as CIDR text (`203.0.113.0/24`), or '' when `ip` is not an address. */
export function formatNetwork(ip: string, v4Prefix: number, v6Prefix: number): string {
  const v4 = parseIPv4(ip);
  if (v4 >= 0) {
    const base = Math.floor(v4 / 2 ** (32 - v4Prefix)) * 2 ** (32 - v4Prefix);
    return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${v4Prefix}`;
  }
  const v6 = parseIPv6(ip);
  if (!v6) return '';
  const masked = v6.map((g, i) => {
    const keep = Math.max(0, Math.min(16, v6Prefix - i * 16));
    return keep === 0 ? 0 : (g >>> (16 - keep)) << (16 - keep);
  });
  return `${masked.map((g) => g.toString(16)).join(':')}/${v6Prefix}`;
}
