import { describe, expect, it } from 'vitest';
import type { TokenEvent } from '../events/contract.js';
import { createValidator } from '../events/validate.js';
import { evenIncidentTimes, STREAM_SCENARIO_NAMES } from './incidents.js';
import { scheduledLabels } from './labels.js';
import { DAY } from './model.js';
import { createWorld, type WorldOptions } from './world.js';

const start = Date.UTC(2026, 0, 5);
const days = 10;
const options = (seed: number): WorldOptions => ({
  seed,
  start,
  days,
  tokens: 120,
  eventsPerDay: 4_000,
  incidentTimes: evenIncidentTimes(start + 8.5 * DAY, start + days * DAY - 3_600_000, 22),
});

function run(seed: number) {
  const world = createWorld(options(seed));
  const events: TokenEvent[] = [...world.events()];
  return { world, events };
}

describe('createWorld()', () => {
  const { world, events } = run(3);

  it('gives the same events and labels for the same seed, and others for another', () => {
    const again = run(3);
    expect(again.events).toEqual(events);
    expect(again.world.labels).toEqual(world.labels);
    expect(run(4).events.slice(0, 500)).not.toEqual(events.slice(0, 500));
  });

  it('emits valid contract-v1 events with unique ids, in time order', () => {
    const validate = createValidator();
    const bad = events.map((e) => validate(e)).filter((v) => !v.ok);
    expect(bad).toEqual([]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const times = events.map((e) => Date.parse(e.time));
    expect(times.every((t, i) => i === 0 || t >= (times[i - 1] as number))).toBe(true);
  });

  it('has a life: rotations that replace and revoke, expiries, offboarding, allowlists', () => {
    const issued = events.filter((e) => e.type === 'token.issued');
    expect(issued.some((e) => e.token?.replaces)).toBe(true);
    expect(issued.some((e) => e.token?.allowed_cidrs?.length)).toBe(true);
    expect(issued.some((e) => e.token?.expires_at === undefined)).toBe(true);
    expect(events.some((e) => e.type === 'token.revoked' && e.reason === 'rotated')).toBe(true);
    expect(events.some((e) => e.type === 'principal.disabled')).toBe(true);
    expect(new Set(issued.map((e) => e.token?.kind))).toEqual(
      new Set(['service_account', 'user', 'push_only', 'team']),
    );
  });

  it('plays every stream scenario and labels every detector kind', () => {
    for (const name of STREAM_SCENARIO_NAMES)
      expect(world.scenarios[name], name).toEqual({ run: 2, skipped: 0 });
    const kinds = new Set([...world.labels, ...scheduledLabels(world)].map((l) => l.kind));
    expect([...kinds].sort()).toEqual(
      [
        'concurrent_sources',
        'never_used',
        'new_source',
        'no_expiry',
        'orphaned_token',
        'out_of_scope',
        'request_spike',
        'rotation_overdue',
        'source_outside_allowlist',
        'stale_unused',
        'unknown_token',
        'use_after_expiry',
        'use_after_revoke',
      ].sort(),
    );
    const spikes = world.labels.filter((l) => l.kind === 'request_spike');
    expect(spikes.some((l) => l.token_id === '' && l.principal !== '')).toBe(true);
    expect(world.labels.some((l) => l.scenario === 'push_misuse')).toBe(true);
  });

  it('labels a use after revocation with the revoked token, used after its revocation', () => {
    const label = world.labels.find((l) => l.kind === 'use_after_revoke')!;
    const revoked = events.find((e) => e.type === 'token.revoked' && e.token?.id === label.token_id)!;
    const misuse = events.filter(
      (e) => e.type === 'token.used' && e.token?.id === label.token_id && e.time > revoked.time,
    );
    expect(misuse.length).toBeGreaterThan(0);
    expect(Date.parse(misuse[0]!.time)).toBe(label.time);
  });

  it('streams: the first events come before the world is generated', () => {
    const big = createWorld({ ...options(5), tokens: 20_000, eventsPerDay: 5_000_000 });
    const it = big.events();
    expect(it.next().value?.type).toBe('token.issued');
    expect(big.tokens.length).toBeLessThan(100);
  });
});
