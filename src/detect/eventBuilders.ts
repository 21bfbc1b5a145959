import type { FixtureEvent } from './fixtureEvent.js';

/**
 * Terse fixture events for tests, benchmarks and generators: `at` is an offset such as `90s`
 * from the start of the scenario (see expandFixtureEvents).
 */
export type TokenFields = NonNullable<FixtureEvent['token']>;
export type RequestFields = NonNullable<FixtureEvent['request']>;

export function issued(id: string, token: Partial<TokenFields> = {}, at = '0s'): FixtureEvent {
  return {
    type: 'token.issued',
    at,
    token: { id, kind: 'service_account', principal: 'sa-ci', scopes: ['projects:read'], ...token },
  };
}

export function used(
  at: string,
  id: string,
  request: Partial<RequestFields> = {},
  extra: Partial<FixtureEvent> = {},
): FixtureEvent {
  return {
    type: 'token.used',
    at,
    token: { id },
    request: { scope: 'projects:read', source_ip: '10.0.0.1', user_agent: 'ci/1.0', status: 200, ...request },
    ...extra,
  };
}

export function revoked(at: string, id: string): FixtureEvent {
  return { type: 'token.revoked', at, token: { id }, reason: 'test', actor: 'tester' };
}

export function disabled(at: string, principal: string): FixtureEvent {
  return { type: 'principal.disabled', at, principal, actor: 'tester' };
}
