import { describe, expect, it } from 'vitest';
import { scheduledDetectors } from './index.js';
import { scheduledParams } from './params.js';

const DAY = 86_400_000;
const rotation = scheduledDetectors().get('rotation_overdue')!.params;

describe('scheduledParams()', () => {
  it('fills defaults and reads durations, including per-key ones', () => {
    expect(scheduledParams({}, rotation)).toEqual({ max_age: 90 * DAY, max_age_by_kind: {} });
    expect(
      scheduledParams({ max_age: '120d', max_age_by_kind: ['push_only=30d', 'user=26w'] }, rotation),
    ).toEqual({
      max_age: 120 * DAY,
      max_age_by_kind: { push_only: 30 * DAY, user: 182 * DAY },
    });
  });

  it('names the param and what it expects when a value is unusable', () => {
    expect(scheduledParams({ max_age: 'soon' }, rotation)).toBe(
      'params.max_age must be a duration like 90d, got "soon"',
    );
    expect(scheduledParams({ max_age: '2h' }, rotation)).toMatch(/params.max_age must be at least 1d/);
    expect(scheduledParams({ max_age_by_kind: ['user:180d'] }, rotation)).toMatch(
      /params.max_age_by_kind must be a list of key=duration entries/,
    );
    expect(scheduledParams({ maxage: '9d' }, rotation)).toBe(
      'unknown param(s) maxage; known: max_age, max_age_by_kind',
    );
    const noExpiry = scheduledDetectors().get('no_expiry')!.params;
    expect(scheduledParams({ require_expiry: 'yes' }, noExpiry)).toMatch(/must be true or false/);
    expect(scheduledParams({ kinds: 'user' }, noExpiry)).toMatch(/must be a list of strings/);
  });

  it('has a detector for every scheduled kind', async () => {
    const { SCHEDULED_KINDS } = await import('../detectors/index.js');
    expect([...scheduledDetectors().keys()].sort()).toEqual([...SCHEDULED_KINDS].sort());
  });
});
