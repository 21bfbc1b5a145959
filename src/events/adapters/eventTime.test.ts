import { describe, expect, it } from 'vitest';
import { eventId } from './eventId.js';
import { eventTime } from './eventTime.js';

describe('eventTime()', () => {
  it('normalises audit timestamps to UTC with exactly milliseconds, truncating', () => {
    expect(eventTime('2018-10-26T13:19:30.044205Z')).toBe('2018-10-26T13:19:30.044Z');
    expect(eventTime('2022-06-07T20:34:34.392078404Z')).toBe('2022-06-07T20:34:34.392Z');
    expect(eventTime('2019-01-01T00:00:00Z')).toBe('2019-01-01T00:00:00.000Z');
    expect(eventTime('2025-01-01T01:30:00.9999+01:30')).toBe('2025-01-01T00:00:00.999Z');
  });

  it('reads zone-less exports as UTC and numbers as epoch milliseconds', () => {
    expect(eventTime('2022-11-29 00:09:04.38')).toBe('2022-11-29T00:09:04.380Z');
    expect(eventTime(1671111111111)).toBe('2022-12-15T13:31:51.111Z');
  });

  it('rejects what is not a timestamp', () => {
    for (const v of ['yesterday', '2022-13-01T00:00:00Z', '', null, undefined, {}, -1]) {
      expect(eventTime(v)).toBeUndefined();
    }
  });
});

describe('eventId()', () => {
  it('keeps ids within the contract’s 128 chars, deterministically', () => {
    expect(eventId('k8s', 'abc', 'used')).toBe('k8s:abc:used');
    const long = eventId('github', 'x'.repeat(200), 'used');
    expect(long).toHaveLength('github:sha256:'.length + 64);
    expect(eventId('github', 'x'.repeat(200), 'used')).toBe(long);
  });
});
