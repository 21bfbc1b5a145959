import { describe, expect, it } from 'vitest';
import { CEL_CONSTANTS, createCelEnvironment, createCelFunctions } from './celEnv.js';
import { EventView, PrincipalView } from './eventView.js';
import { expandFixtureEvents } from './fixtureEvent.js';
import { compilePrefilter, EXACT, MAYBE, NO } from './prefilter.js';
import { TokenRecord } from './tokenRecord.js';

const lists = { admin_scopes: ['admin:all', 'admin:users'] };
const functions = createCelFunctions();
const env = createCelEnvironment(lists, functions);
const params = { grace: 60_000, threshold: 3 };

const CONDITIONS = [
  'event.type == "token.used" && event.status >= 400',
  'event.request_scope in admin_scopes || event.request_scope.startsWith("root:")',
  '!scopeCovered(token.scopes, event.request_scope) && token.known',
  'event.time > token.revoked_at + params.grace',
  'size(token.allowed_cidrs) > 0 && !inCidrs(event.source_ip, token.allowed_cidrs)',
  'event.status in [401, 403] && event.time - token.issued_at > 5 * minute',
  'event.attributes["team"] == "red"',
  '!(event.attributes["team"] == "red")',
  'event.expires_at == never && principal.disabled_at > event.time',
  'event.type == "token.used" && event.source_ip.matches("^10\\\\.")',
  'network(event.source_ip) == "10.0.0.0/24" ? token.uses > params.threshold : false',
];

const events = expandFixtureEvents(
  [
    {
      type: 'token.used',
      at: '1m',
      token: { id: 't' },
      request: { scope: 'admin:all', status: 403, source_ip: '10.0.0.1' },
    },
    {
      type: 'token.used',
      at: '2h',
      token: { id: 't' },
      request: { scope: 'projects:read', status: 200, source_ip: '192.0.2.1' },
    },
    {
      type: 'token.used',
      at: '3h',
      token: { id: 't' },
      request: { scope: 'root:x', status: 401 },
      attributes: { team: 'red' },
    },
    { type: 'token.issued', at: '0s', token: { id: 't', scopes: ['projects:*'] } },
  ],
  Date.parse('2024-03-01T00:00:00Z'),
);

function tokens(): TokenRecord[] {
  const plain = new TokenRecord('t');
  const issued = new TokenRecord('t');
  issued.known = true;
  issued.scopes = ['projects:*'];
  issued.allowed_cidrs = ['10.0.0.0/8'];
  issued.issued_at = Date.parse('2024-03-01T00:00:00Z');
  issued.revoked_at = Date.parse('2024-03-01T00:30:00Z');
  issued.uses = 5;
  return [plain, issued];
}

describe('compilePrefilter()', () => {
  it('never says no where CEL says yes, nor exact where CEL says no', () => {
    const view = new EventView();
    const principal = new PrincipalView((name) => (name === 'sa-ci' ? 0 : Number.POSITIVE_INFINITY));
    for (const condition of CONDITIONS) {
      const parsed = env.parse(condition);
      const prefilter = compilePrefilter(parsed.ast, { ...CEL_CONSTANTS, ...lists }, params, functions);
      for (const ev of events) {
        for (const token of tokens()) {
          view.ev = ev;
          principal.name = ev.principal || 'sa-ci';
          let truth = false;
          try {
            truth = parsed({ event: view, token, principal, params }) === true;
          } catch {
            // A CEL error is no match.
          }
          const verdict = prefilter.test(ev, token, principal);
          if (truth) expect(verdict, `${condition} on ${ev.id}`).not.toBe(NO);
          else expect(verdict, `${condition} on ${ev.id}`).not.toBe(EXACT);
        }
      }
    }
  });

  it('pins event types and reports what it compiled', () => {
    const parsed = env.parse(
      'event.type == "token.used" && event.source_ip.matches("^10") && event.status == 200',
    );
    const prefilter = compilePrefilter(parsed.ast, CEL_CONSTANTS, {}, functions);
    expect(prefilter.eventTypes).toEqual(['token.used']);
    expect([prefilter.compiled, prefilter.operands]).toEqual([2, 3]);
    const ev = events.find((e) => e.type === 'token.used');
    expect(prefilter.test({ ...ev!, status: 200 }, new TokenRecord('t'), new PrincipalView(() => 0))).toBe(
      MAYBE,
    );
  });
});
