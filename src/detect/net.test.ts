import { describe, expect, it } from 'vitest';
import { compileCidrs, isValidCidr } from './cidr.js';
import { formatDuration, parseDuration } from './duration.js';
import { formatNetwork, networkKey, parseIPv4, parseIPv6 } from './net.js';
import { createScopeChecker } from './scopes.js';

describe('parseIPv4()', () => {
  it('reads dotted quads and refuses anything else', () => {
    expect(parseIPv4('10.0.0.1')).toBe(167772161);
    expect(parseIPv4('255.255.255.255')).toBe(2 ** 32 - 1);
    for (const bad of ['10.0.0', '10.0.0.256', '1.2.3.4.5', 'a.b.c.d', '', '1..2.3'])
      expect(parseIPv4(bad)).toBe(-1);
  });
});

describe('parseIPv6()', () => {
  it('expands :: and embedded IPv4, drops the zone', () => {
    expect(parseIPv6('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6('::ffff:10.0.0.1%eth0')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]);
    expect(parseIPv6('1::2::3')).toBeUndefined();
    expect(parseIPv6('10.0.0.1')).toBeUndefined();
  });
});

describe('networkKey()', () => {
  it('groups IPv4 by /24 and IPv6 by /64', () => {
    expect(networkKey('10.0.0.1', 24, 64)).toBe(networkKey('10.0.0.254', 24, 64));
    expect(networkKey('10.0.1.1', 24, 64)).not.toBe(networkKey('10.0.0.1', 24, 64));
    expect(networkKey('2001:db8:0:1::1', 24, 64)).toBe(networkKey('2001:db8:0:1:ffff::2', 24, 64));
    expect(networkKey('2001:db8:0:2::1', 24, 64)).not.toBe(networkKey('2001:db8:0:1::1', 24, 64));
    expect(networkKey('2001:db8:0:2::1', 24, 48)).toBe(networkKey('2001:db8:0:1::1', 24, 48));
    expect(networkKey('not an ip', 24, 64)).toBe(-1);
  });

  it('treats the placeholders 0.0.0.0 and :: as no address', () => {
    for (const ip of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '::0.0.0.0'])
      expect(networkKey(ip, 24, 64), ip).toBe(-1);
    expect(networkKey('0.0.0.1', 24, 64)).toBe(0);
    expect(networkKey('::1', 24, 64)).toBeGreaterThan(0);
  });

  it('formats the network as CIDR', () => {
    expect(formatNetwork('203.0.113.77', 24, 64)).toBe('203.0.113.0/24');
    expect(formatNetwork('2001:db8:0:1:2:3:4:5', 24, 64)).toBe('2001:db8:0:1:0:0:0:0/64');
  });
});

describe('compileCidrs()', () => {
  it('matches IPv4 and IPv6 blocks and bare addresses', () => {
    const allowed = compileCidrs(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', 'garbage']);
    expect(['10.1.2.3', '192.0.2.7', '2001:db8:ffff::1'].every((ip) => allowed.contains(ip))).toBe(true);
    expect(['11.0.0.1', '192.0.2.8', '2001:db9::1', ''].some((ip) => allowed.contains(ip))).toBe(false);
    expect(isValidCidr('10.0.0.0/33')).toBe(false);
  });
});

describe('scopeCovered()', () => {
  it('covers exact scopes and * suffixes only', () => {
    const covered = createScopeChecker();
    expect(covered(['projects:read'], 'projects:read')).toBe(true);
    expect(covered(['projects:read'], 'projects:write')).toBe(false);
    expect(covered(['projects:*'], 'projects:write')).toBe(true);
    expect(covered(['projects:*'], 'project:write')).toBe(false);
    expect(covered(['*'], 'anything')).toBe(true);
    expect(covered([], 'projects:read')).toBe(false);
  });
});

describe('parseDuration()', () => {
  it('reads single and compound durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(formatDuration(86_400_000)).toBe('1d');
  });
});
