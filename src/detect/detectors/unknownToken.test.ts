import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Engine } from '../engine.js';
import { issued, used } from '../eventBuilders.js';
import { expandFixtureEvents, type FixtureEvent } from '../fixtureEvent.js';
import { replayEvents } from '../replayEvents.js';
import { compileRuleSet } from '../rules.js';

const RULE = `
- rule: Unknown token used
  kind: unknown_token
  desc: d
  severity: medium
  params: {grace: 1m}
`;
const logger = pino({ level: 'silent' });
const start = Date.parse('2024-03-01T00:00:00Z');

function alerts(events: FixtureEvent[], params = '') {
  const rules = compileRuleSet([
    { file: 'lifecycle.yaml', text: RULE.replace('{grace: 1m}', `{grace: 1m${params}}`) },
  ]);
  return replayEvents(expandFixtureEvents(events, start), { rules, logger });
}

describe('unknownToken()', () => {
  it('flags uses of a token that was never issued, as one alert', () => {
    const [alert, ...rest] = alerts([
      issued('real'),
      used('10m', 'forged'),
      used('11m', 'forged', { status: 401 }),
    ]);
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({ token_id: 'forged', count: 2, evidence: ['e2', 'e3'] });
    expect(alert?.details.statuses).toEqual([200, 401]);
  });

  it('waits for an issuance that arrives within the grace', () => {
    expect(alerts([used('10m', 'late'), issued('late', {}, '10m40s')])).toEqual([]);
  });

  it('takes tokens used during bootstrap as issued before the history', () => {
    const events = [used('1m', 'old'), used('3h', 'old'), used('3h', 'new')];
    expect(alerts(events, ', bootstrap: 2h').map((a) => a.token_id)).toEqual(['new']);
  });

  it('knows tokens seeded by the store and tokens its lookup hook finds', () => {
    const rules = compileRuleSet([{ file: 'lifecycle.yaml', text: RULE }]);
    const seen: string[] = [];
    const facts = {
      kind: 'user',
      principal: 'p',
      tenant: '',
      scopes: [],
      allowed_cidrs: [],
      issued_at: 0,
      expires_at: null,
      revoked_at: null,
      replaces: '',
    };
    const engine = new Engine({
      rules,
      logger,
      onAlert: (a) => seen.push(a.token_id),
      lookupToken: (id) => (id === 'in-store' ? { id, ...facts } : undefined),
    });
    engine.seedToken({ id: 'seeded', ...facts });
    for (const ev of expandFixtureEvents(
      [used('1m', 'seeded'), used('1m', 'in-store'), used('1m', 'nobody')],
      start,
    )) {
      engine.process(ev);
    }
    engine.flush();
    expect(seen).toEqual(['nobody']);
  });

  it('learns from history without alerting', () => {
    const rules = compileRuleSet([{ file: 'lifecycle.yaml', text: RULE }]);
    const seen: string[] = [];
    const engine = new Engine({ rules, logger, onAlert: (a) => seen.push(a.token_id) });
    const [old, again] = expandFixtureEvents([used('1m', 'legacy'), used('1h', 'legacy')], start);
    engine.learn(old!);
    engine.process(again!);
    engine.flush();
    expect(seen).toEqual([]);
  });
});
