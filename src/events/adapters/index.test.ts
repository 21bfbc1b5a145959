import { describe, expect, it } from 'vitest';
import { adapters, getAdapter } from './index.js';

describe('getAdapter()', () => {
  it('returns each adapter under its format name', () => {
    for (const [name, adapter] of Object.entries(adapters)) expect(getAdapter(name)).toBe(adapter);
    expect(Object.keys(adapters)).toEqual(['k8s-audit', 'vault', 'cloudtrail', 'github']);
  });

  it('names the valid formats when given an unknown one', () => {
    expect(() => getAdapter('choir')).toThrow(
      'unknown audit-log format "choir": expected one of k8s-audit, vault, cloudtrail, github',
    );
    expect(() => getAdapter('toString')).toThrow(/unknown audit-log format/);
  });
});
