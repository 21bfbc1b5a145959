import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { disabled, issued, revoked, used } from './eventBuilders.js';
import { expandFixtureEvents, type FixtureEvent } from './fixtureEvent.js';
import { replayEvents } from './replayEvents.js';
import { loadRules } from './rules.js';

// The shipped CEL rules (kinds without a stateful detector), run through the engine.
const rules = await loadRules(fileURLToPath(new URL('../../rules', import.meta.url)));
const logger = pino({ level: 'silent' });

function alerts(kind: string, events: FixtureEvent[]) {
  const stored = expandFixtureEvents(events, Date.parse('2024-03-01T00:00:00Z'));
  return replayEvents(stored, { rules, logger, verifyPrefilters: true }).filter((a) => a.kind === kind);
}

describe('outOfScope()', () => {
  it('flags a write made with a read-only token', () => {
    const [alert] = alerts('out_of_scope', [issued('t1'), used('1m', 't1', { scope: 'projects:write' })]);
    expect(alert).toMatchObject({ token_id: 't1', principal: 'sa-ci', severity: 'high', count: 1 });
    expect(alert?.details.scopes).toEqual(['projects:write']);
    expect(alert?.summary).toContain('outside its grant [projects:read]');
  });

  it('accepts scopes under a * grant and refuses the parent scope', () => {
    const grant = issued('t1', { scopes: ['projects:*'] });
    expect(alerts('out_of_scope', [grant, used('1m', 't1', { scope: 'projects:delete' })])).toEqual([]);
    expect(alerts('out_of_scope', [grant, used('1m', 't1', { scope: 'projects' })])).toHaveLength(1);
  });

  it('ignores uses that name no scope', () => {
    expect(alerts('out_of_scope', [issued('t1'), used('1m', 't1', { scope: '' })])).toEqual([]);
  });

  it('flags a push-only token reading, and lets it push', () => {
    const token = issued('p1', { kind: 'push_only', scopes: ['registry:*'] });
    const pull = used('1m', 'p1', { scope: 'registry:pull', action: 'pull' });
    const push = used('2m', 'p1', { scope: 'registry:push', action: 'push' });
    expect(alerts('out_of_scope', [token, pull]).map((a) => a.rule)).toEqual([
      'Push-only token used for something other than push',
    ]);
    expect(alerts('out_of_scope', [token, push])).toEqual([]);
  });
});

describe('useAfterRevoke()', () => {
  const history = [issued('t1'), revoked('10m', 't1')];

  it('rates an accepted use critical and a refused one medium', () => {
    expect(alerts('use_after_revoke', [...history, used('20m', 't1')])[0]?.severity).toBe('critical');
    expect(alerts('use_after_revoke', [...history, used('20m', 't1', { status: 403 })])[0]?.severity).toBe(
      'medium',
    );
  });

  it('allows the propagation grace and uses before revocation', () => {
    expect(
      alerts('use_after_revoke', [
        issued('t1'),
        used('9m', 't1'),
        revoked('10m', 't1'),
        used('10m20s', 't1'),
      ]),
    ).toEqual([]);
  });

  it('merges repeats within the hour into one alert', () => {
    const [alert, ...rest] = alerts('use_after_revoke', [
      ...history,
      used('20m', 't1'),
      used('30m', 't1', { source_ip: '192.0.2.7' }),
    ]);
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({ count: 2, evidence: ['e3', 'e4'] });
    expect(alert?.details.source_ips).toEqual(['10.0.0.1', '192.0.2.7']);
  });
});

describe('useAfterExpiry()', () => {
  const token = issued('t1', { expires_at: '+1h' });

  it('flags an accepted use after expiry high and a refused one low', () => {
    expect(alerts('use_after_expiry', [token, used('1h3m', 't1')])[0]?.severity).toBe('high');
    expect(alerts('use_after_expiry', [token, used('1h3m', 't1', { status: 401 })])[0]?.severity).toBe('low');
  });

  it('tolerates clock skew and tokens without expiry', () => {
    expect(alerts('use_after_expiry', [token, used('1h1m', 't1')])).toEqual([]);
    expect(alerts('use_after_expiry', [issued('t2'), used('900d', 't2')])).toEqual([]);
  });
});

describe('sourceOutsideAllowlist()', () => {
  const token = issued('t1', { allowed_cidrs: ['10.0.0.0/8', '2001:db8::/32'] });

  it('flags an address outside allowed_cidrs', () => {
    const [alert] = alerts('source_outside_allowlist', [
      token,
      used('1m', 't1', { source_ip: '2001:db9::1' }),
    ]);
    expect(alert?.details.source_ips).toEqual(['2001:db9::1']);
  });

  it('does not call a placeholder address (0.0.0.0, ::) outside the allowlist', () => {
    // CloudTrail calls made by an AWS service carry no address; the adapter writes 0.0.0.0.
    for (const source_ip of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0'])
      expect(alerts('source_outside_allowlist', [token, used('1m', 't1', { source_ip })])).toEqual([]);
  });

  it('accepts addresses inside, and tokens without an allowlist', () => {
    expect(alerts('source_outside_allowlist', [token, used('1m', 't1', { source_ip: '10.9.9.9' })])).toEqual(
      [],
    );
    expect(
      alerts('source_outside_allowlist', [issued('t2'), used('1m', 't2', { source_ip: '8.8.8.8' })]),
    ).toEqual([]);
  });
});

describe('orphaned token use', () => {
  it('flags a use after the principal was disabled, not before', () => {
    expect(alerts('orphaned_token', [issued('t1'), disabled('1h', 'sa-ci'), used('2h', 't1')])).toHaveLength(
      1,
    );
    expect(alerts('orphaned_token', [issued('t1'), used('30m', 't1'), disabled('1h', 'sa-ci')])).toEqual([]);
  });
});
