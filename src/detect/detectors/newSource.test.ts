import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { issued, used } from '../eventBuilders.js';
import { expandFixtureEvents, type FixtureEvent } from '../fixtureEvent.js';
import { replayEvents } from '../replayEvents.js';
import { compileRuleSet } from '../rules.js';

const RULE = `
- rule: New network
  kind: new_source
  desc: d
  severity: medium
  params: {learning_period: 1d, forget_after: 10d, max_networks: 3}
`;
const rules = compileRuleSet([{ file: 'network.yaml', text: RULE }]);
const logger = pino({ level: 'silent' });

function alerts(events: FixtureEvent[]) {
  return replayEvents(expandFixtureEvents(events, Date.parse('2024-03-01T00:00:00Z')), { rules, logger });
}

/** A token used daily from 10.0.0.x for `days` days. */
function routine(days: number): FixtureEvent[] {
  return [
    issued('t1'),
    used('1m', 't1', { source_ip: '10.0.0.5' }, { repeat: { count: days, every: '1d' } }),
  ];
}

describe('newSource()', () => {
  it('flags a network first seen after the learning period', () => {
    const [alert] = alerts([...routine(3), used('3d', 't1', { source_ip: '198.51.100.7' })]);
    expect(alert).toMatchObject({ kind: 'new_source', token_id: 't1', count: 1 });
    expect(alert?.details.context).toMatchObject({ network: '198.51.100.0/24', known_networks: 1 });
  });

  it('ignores placeholder addresses (0.0.0.0, ::) of events that have none', () => {
    const service = (source_ip: string) => used('3d', 't1', { source_ip });
    expect(alerts([...routine(3), service('0.0.0.0'), service('::')])).toEqual([]);
  });

  it('learns silently during the learning period', () => {
    expect(alerts([...routine(3), used('2h', 't1', { source_ip: '198.51.100.7' })])).toEqual([]);
  });

  it('treats another host of a known /24 and of a known IPv6 /64 as known', () => {
    const v6 = used('2h', 't1', { source_ip: '2001:db8:0:1::1' });
    const events = [
      ...routine(3),
      v6,
      used('3d', 't1', { source_ip: '10.0.0.200' }),
      used('3d', 't1', { source_ip: '2001:db8:0:1:ffff::9' }),
    ];
    expect(alerts(events)).toEqual([]);
  });

  it('flags a network again after forget_after without use', () => {
    expect(alerts([...routine(1), used('12d', 't1', { source_ip: '10.0.0.5' })])).toHaveLength(1);
  });

  it('remembers at most max_networks, forgetting the least recent', () => {
    const learning = ['10.0.1.1', '10.0.2.1', '10.0.3.1'].map((ip, i) =>
      used(`${i + 1}h`, 't1', { source_ip: ip }),
    );
    const later = [
      used('2d', 't1', { source_ip: '10.0.4.1' }),
      used('2d10m', 't1', { source_ip: '10.0.1.1' }),
    ];
    expect(alerts([issued('t1'), ...learning, ...later]).map((a) => a.details.source_ips)).toEqual([
      ['10.0.4.1', '10.0.1.1'],
    ]);
  });

  it('ignores events without a source address and unknown tokens', () => {
    expect(
      alerts([
        ...routine(3),
        used('3d', 't1', { source_ip: '' }),
        used('3d', 'ghost', { source_ip: '203.0.113.1' }),
      ]),
    ).toEqual([]);
  });
});
