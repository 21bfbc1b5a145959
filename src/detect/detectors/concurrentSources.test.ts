import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { issued, used } from '../eventBuilders.js';
import { expandFixtureEvents, type FixtureEvent } from '../fixtureEvent.js';
import { replayEvents } from '../replayEvents.js';
import { loadRules } from '../rules.js';

const rules = await loadRules(fileURLToPath(new URL('../../../rules', import.meta.url)));
const logger = pino({ level: 'silent' });

function alerts(events: FixtureEvent[]) {
  const stored = expandFixtureEvents(events, Date.parse('2024-03-01T00:00:00Z'));
  return replayEvents(stored, { rules, logger }).filter((a) => a.kind === 'concurrent_sources');
}

const from = (at: string, ip: string) => used(at, 't1', { source_ip: ip });

describe('concurrentSources()', () => {
  it('flags three networks within five minutes', () => {
    const [alert] = alerts([
      issued('t1'),
      from('1m', '10.0.0.1'),
      from('2m', '198.51.100.1'),
      from('4m', '203.0.113.1'),
    ]);
    expect(alert).toMatchObject({ token_id: 't1', count: 1 });
    expect(alert?.details.context).toMatchObject({ networks: 3, latest_network: '203.0.113.0/24' });
  });

  it('does not re-alert while the same networks keep being used', () => {
    const burst = [from('1m', '10.0.0.1'), from('2m', '198.51.100.1'), from('3m', '203.0.113.1')];
    const steady = [from('3m10s', '10.0.0.1'), from('3m20s', '198.51.100.1'), from('3m30s', '203.0.113.9')];
    expect(alerts([issued('t1'), ...burst, ...steady]).map((a) => a.count)).toEqual([1]);
  });

  it('ignores two networks, and three spread over half an hour', () => {
    expect(
      alerts([issued('t1'), from('1m', '10.0.0.1'), from('2m', '198.51.100.1'), from('3m', '10.0.0.7')]),
    ).toEqual([]);
    expect(
      alerts([issued('t1'), from('1m', '10.0.0.1'), from('15m', '198.51.100.1'), from('30m', '203.0.113.1')]),
    ).toEqual([]);
  });
});
