import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type Alert, type AlertChange, alertId, detailsOf } from './alert.js';
import { AlertAggregator } from './alertAggregator.js';

const logger = pino({ level: 'silent' });
const HOUR = 3_600_000;

function alert(time: number, ip: string, id = alertId('Rule', 't1', 0)): Alert {
  return {
    id,
    kind: 'out_of_scope',
    rule: 'Rule',
    severity: 'high',
    token_id: 't1',
    principal: 'p',
    tenant: '',
    first_seen: time,
    last_seen: time,
    count: 1,
    evidence: [`e${time}`],
    summary: 's',
    status: 'open',
    tags: [],
    response: { confirm: 'manual', revoke: false },
    details: detailsOf({ source_ip: ip, user_agent: '', request_scope: 'x:y', status: 200 }),
  };
}

function recorder(maxOpen?: number) {
  const seen: Array<[AlertChange, number]> = [];
  const aggregator = new AlertAggregator({
    logger,
    maxOpen,
    sink: (a, change) => seen.push([change, a.count]),
  });
  return { aggregator, seen };
}

describe('alertId()', () => {
  it('is deterministic in rule, subject and window', () => {
    expect(alertId('Rule', 't1', 0)).toBe(alertId('Rule', 't1', 0));
    expect(alertId('Rule', 't1', 0)).toMatch(/^[0-9a-f]{32}$/);
    expect(alertId('Rule', 't1', HOUR)).not.toBe(alertId('Rule', 't1', 0));
  });
});

describe('AlertAggregator', () => {
  it('emits the first occurrence at once and merged repeats when the window closes', () => {
    const { aggregator, seen } = recorder();
    aggregator.add(alert(1, '10.0.0.1'), 0, HOUR);
    aggregator.add(alert(2, '10.0.0.2'), 0, HOUR);
    aggregator.add(alert(3, '10.0.0.1'), 0, HOUR);
    expect(seen).toEqual([['opened', 1]]);
    aggregator.advance(HOUR);
    expect(seen).toEqual([
      ['opened', 1],
      ['updated', 3],
    ]);
  });

  it('unions evidence and details without duplicates', () => {
    const merged: Alert[] = [];
    const aggregator = new AlertAggregator({ logger, sink: (a) => merged.push(a) });
    aggregator.add(alert(1, '10.0.0.1'), 0, HOUR);
    aggregator.add(alert(5, '10.0.0.1'), 0, HOUR);
    aggregator.flush();
    expect(merged[1]).toMatchObject({ first_seen: 1, last_seen: 5, evidence: ['e1', 'e5'] });
    expect(merged[1]?.details.source_ips).toEqual(['10.0.0.1']);
  });

  it('merges a late repeat into a closed window instead of reopening it', () => {
    const { aggregator, seen } = recorder();
    aggregator.add(alert(1, 'a'), 0, HOUR);
    aggregator.advance(HOUR);
    aggregator.add(alert(2, 'b'), 0, HOUR);
    aggregator.advance(2 * HOUR);
    expect(seen).toEqual([
      ['opened', 1],
      ['updated', 2],
    ]);
  });

  it('closes the oldest window early over capacity rather than dropping alerts', () => {
    const { aggregator, seen } = recorder(2);
    for (let i = 0; i < 3; i++) aggregator.add(alert(i, 'a', `id${i}`), i * HOUR, HOUR);
    aggregator.add(alert(9, 'b', 'id0'), 0, HOUR);
    aggregator.flush();
    expect(seen.filter(([c]) => c !== 'updated')).toHaveLength(4);
    // Its first part is already out: what it emits now is the rest.
    expect(seen[3]).toEqual(['reopened', 1]);
    expect(aggregator.open).toBe(0);
  });

  it('says when it opens a window again that it had closed and forgotten', () => {
    const { aggregator, seen } = recorder();
    aggregator.add(alert(1, 'a'), 0, HOUR);
    aggregator.advance(2 * HOUR);
    aggregator.add(alert(2, 'b'), 0, HOUR);
    expect(seen).toEqual([
      ['opened', 1],
      ['reopened', 1],
    ]);
  });
});
