import type { TokenEvent } from '../../src/events/contract.js';
import type { EventRow } from '../../src/store/store.js';

/**
 * Deterministic contract-v1 events for tests and benchmarks: `tokens` tokens issued first,
 * then uses spread over time. Event i is the same in every run.
 */
export function makeEvent(i: number, opts: { tokens?: number; start?: number } = {}): TokenEvent {
  const tokens = opts.tokens ?? 1000;
  const start = opts.start ?? Date.UTC(2026, 0, 1);
  const t = i % tokens;
  const time = new Date(start + i * 10).toISOString();
  if (i < tokens) {
    return {
      id: `evt-${i}`,
      type: 'token.issued',
      time,
      token: {
        id: `tok-${t}`,
        kind: 'service_account',
        principal: `svc-${t % 97}`,
        scopes: ['projects:read', 'builds:*'],
      },
      tenant: 'acme',
      source: 'bench',
    };
  }
  return {
    id: `evt-${i}`,
    type: 'token.used',
    time,
    token: { id: `tok-${t}` },
    request: {
      scope: i % 3 === 0 ? 'builds:write' : 'projects:read',
      action: 'get',
      resource: `projects/${i % 50}`,
      method: 'GET',
      path: `/api/v1/projects/${i % 50}`,
      source_ip: `10.${(t >> 8) & 255}.${t & 255}.${i % 7}`,
      user_agent: 'ci-runner/1.4',
      status: 200,
    },
    tenant: 'acme',
    source: 'bench',
  };
}

/** Every `everyNth` line is malformed in one of several ways; returns the line and whether it is bad. */
export function makeLine(
  i: number,
  everyNth = 0,
  opts: { tokens?: number } = {},
): { line: string; bad: boolean } {
  if (everyNth > 0 && i % everyNth === everyNth - 1) {
    const kinds = [
      '{"id":"broken-json"',
      JSON.stringify({ id: `bad-${i}`, type: 'token.used', time: 'yesterday', token: { id: 't' } }),
      JSON.stringify({ id: `bad-${i}`, type: 'token.teleported', time: '2026-01-01T00:00:00.000Z' }),
      JSON.stringify({
        id: `bad-${i}`,
        type: 'token.issued',
        time: '2026-01-01T00:00:00.000Z',
        token: { id: 't' },
      }),
    ];
    return { line: kinds[Math.floor(i / everyNth) % kinds.length]!, bad: true };
  }
  return { line: JSON.stringify(makeEvent(i, opts)), bad: false };
}

/** A stored event row with every field empty but what `over` sets: for tests of storage itself. */
export function eventRow(over: Partial<EventRow> & Pick<EventRow, 'id' | 'time'>): EventRow {
  return {
    type: 'token.used',
    token_id: 't',
    token_kind: '',
    principal: '',
    scopes: [],
    expires_at: null,
    allowed_cidrs: [],
    replaces: '',
    request_scope: '',
    request_action: '',
    request_resource: '',
    request_method: '',
    request_path: '',
    source_ip: '',
    user_agent: '',
    status: 200,
    reason: '',
    actor: '',
    tenant: '',
    source: '',
    attributes: {},
    raw: '{}',
    ingest_source: 'test',
    ingest_partition: 0,
    ingest_offset: 0,
    ingested_at: over.time + 5,
    ...over,
  };
}
