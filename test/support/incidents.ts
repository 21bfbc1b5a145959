import { disabled, issued, revoked, used } from '../../src/detect/eventBuilders.js';
import { expandFixtureEvents, type FixtureEvent } from '../../src/detect/fixtureEvent.js';
import type { StoredEvent } from '../../src/events/contract.js';

/**
 * A small token world over nine days with one incident of most stream kinds, as contract-v1
 * NDJSON lines in time order. Normal traffic (sa-build's token used every 6 hours from two
 * networks) runs throughout, so event time advances past many scheduled-detector hours.
 */
export function incidentWorld(start = Date.UTC(2026, 2, 1)): StoredEvent[] {
  const events: FixtureEvent[] = [
    issued('tok-build', { principal: 'sa-build', scopes: ['builds:*', 'projects:read'] }),
    used(
      '1m',
      'tok-build',
      { scope: 'builds:write', source_ip: '10.1.0.5' },
      { repeat: { count: 36, every: '6h' } },
    ),
    used(
      '3h',
      'tok-build',
      { scope: 'builds:read', source_ip: '10.2.0.7' },
      { repeat: { count: 36, every: '6h' } },
    ),
    // out_of_scope
    issued('tok-read', { principal: 'sa-report', scopes: ['projects:read'] }, '5m'),
    used('10m', 'tok-read', { scope: 'projects:write' }),
    // use_after_revoke (accepted)
    issued('tok-old', { principal: 'sa-deploy', scopes: ['deploy:*'] }, '20m'),
    revoked('1h', 'tok-old'),
    used('2h', 'tok-old', { scope: 'deploy:run', status: 200 }),
    // use_after_expiry (accepted)
    issued('tok-short', { principal: 'sa-job', scopes: ['jobs:run'], expires_at: '+3h' }, '30m'),
    used('5h', 'tok-short', { scope: 'jobs:run', status: 200 }),
    // unknown_token
    used('1d', 'tok-ghost', { source_ip: '198.51.100.7' }),
    // source_outside_allowlist
    issued('tok-fenced', { principal: 'sa-etl', allowed_cidrs: ['10.0.0.0/8'] }, '40m'),
    used('2d', 'tok-fenced', { source_ip: '192.0.2.44' }),
    // concurrent_sources: three networks within five minutes
    issued('tok-shared', { principal: 'sa-cache' }, '50m'),
    used('3d', 'tok-shared', { source_ip: '10.3.0.1' }),
    used('3d1m', 'tok-shared', { source_ip: '172.16.4.1' }),
    used('3d2m', 'tok-shared', { source_ip: '192.168.9.1' }),
    // orphaned_token: the owner is disabled, the token still used
    issued('tok-orphan', { principal: 'sa-gone' }, '55m'),
    disabled('4d', 'sa-gone'),
    used('4d1h', 'tok-orphan'),
    // new_source: after the seven-day learning period, a new network
    used('8d', 'tok-build', { scope: 'builds:read', source_ip: '203.0.113.50' }),
  ];
  return expandFixtureEvents(events, start);
}

/** The contract-v1 JSON line of a fixture event (its `raw` is exactly what ingestion would receive). */
export const lineOf = (ev: StoredEvent): string => ev.raw;

/**
 * Events reordered as several partitions would deliver them: each group of `size` consecutive
 * events reversed. Nothing moves by more than `size` events, so with events minutes apart and a
 * generous lateness, detection still sees the global order.
 */
export function interleave<T>(events: readonly T[], size = 3): T[] {
  const out: T[] = [];
  for (let i = 0; i < events.length; i += size) out.push(...events.slice(i, i + size).reverse());
  return out;
}
