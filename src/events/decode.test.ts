import { describe, expect, it } from 'vitest';
import { createDecoder } from './decode.js';
import { createFingerprinter } from './secrets.js';
import { createValidator } from './validate.js';

const decode = createDecoder({
  validate: createValidator(),
  fingerprint: createFingerprinter('k'),
  mapper: null,
});
const used = {
  id: 'e1',
  type: 'token.used',
  time: '2026-03-01T10:00:00.123Z',
  token: { id: 'tok-1' },
  request: { scope: 'repo:push', source_ip: '192.0.2.7', status: 200, user_agent: 'git/2.43' },
};

describe('decode()', () => {
  it('flattens a valid use into a stored row with epoch-ms times', () => {
    const d = decode(JSON.stringify(used));
    expect(d.kind).toBe('events');
    if (d.kind !== 'events') return;
    const e = d.events[0]!;
    expect(e).toMatchObject({
      id: 'e1',
      token_id: 'tok-1',
      request_scope: 'repo:push',
      source_ip: '192.0.2.7',
      status: 200,
    });
    expect(e.time).toBe(Date.UTC(2026, 2, 1, 10, 0, 0, 123));
  });

  it('keeps unknown fields in attributes instead of dropping them', () => {
    const d = decode(
      JSON.stringify({ ...used, region: 'eu-west-1', request: { ...used.request, trace: { id: 7 } } }),
    );
    if (d.kind !== 'events') throw new Error(d.kind);
    expect(d.events[0]!.attributes).toEqual({ region: 'eu-west-1', 'request.trace': '{"id":7}' });
  });

  it.each([
    ['{"id":', /^not valid JSON/],
    [
      JSON.stringify({ ...used, time: '2026-03-01 10:00' }),
      /"time" must be an RFC 3339 time with milliseconds/,
    ],
    [JSON.stringify({ ...used, type: 'token.stolen' }), /"type" must be one of token.issued, token.used/],
    [
      JSON.stringify({ ...used, request: { scope: 'x', status: 200 } }),
      /missing required field "request.source_ip"/,
    ],
    [
      JSON.stringify({ ...used, request: { ...used.request, source_ip: 'not-an-ip' } }),
      /"request.source_ip" must be an IP address/,
    ],
    [
      JSON.stringify({ id: 'i', type: 'token.issued', time: used.time, token: { id: 't', kind: 'user' } }),
      /missing required field "token.scopes"/,
    ],
    [
      JSON.stringify({ id: 'p', type: 'principal.disabled', time: used.time }),
      /missing required field "principal"/,
    ],
    [JSON.stringify([1, 2]), /the event must be an object/],
  ])('dead-letters %s with a reason a human understands', (line, reason) => {
    const d = decode(line);
    expect(d.kind).toBe('dead_letter');
    if (d.kind === 'dead_letter') expect(d.reason).toMatch(reason);
  });

  it('never stores a raw secret sent as a token id', () => {
    const secret = `ghp_${'Zx9'.repeat(12)}`;
    const d = decode(JSON.stringify({ ...used, token: { id: secret } }));
    if (d.kind !== 'events') throw new Error(d.kind);
    expect(d.events[0]!.token_id).toMatch(/^fp:[0-9a-f]{24}$/);
    expect(d.events[0]!.raw).not.toContain(secret);
  });

  it('removes a secret from a dead-lettered payload too', () => {
    const secret = `glpat-${'a'.repeat(24)}`;
    const d = decode(`{"id":"x","token":"${secret}"`);
    expect(d.kind).toBe('dead_letter');
    if (d.kind === 'dead_letter') expect(d.payload).not.toContain(secret);
  });
});

describe('decode() ids', () => {
  it('refuses an id with a control character, which would break set look-ups', () => {
    const d = decode(JSON.stringify({ ...used, id: 'a\nb' }));
    expect(d).toMatchObject({ kind: 'dead_letter', reason: '"id" must not contain control characters' });
  });
});

describe('decode() time range', () => {
  it('dead-letters a time the log cannot store instead of failing the batch', () => {
    const d = decode(JSON.stringify({ ...used, time: '1999-01-01T00:00:00.000Z' }));
    expect(d).toMatchObject({
      kind: 'dead_letter',
      reason: '"time" must lie between 2001-09-09 and 2286-11-20, got 1999-01-01T00:00:00.000Z',
    });
  });

  it("stores an expiry of 9999-12-31 as no expiry, keeping the issuer's text", () => {
    const never = {
      ...used,
      token: { ...used.token, expires_at: '9999-12-31T23:59:59.000Z' },
    };
    const d = decode(JSON.stringify(never));
    expect(d.kind).toBe('events');
    if (d.kind !== 'events') return;
    expect(d.events[0]!.expires_at).toBeNull();
    expect(d.events[0]!.attributes['token.expires_at']).toBe('9999-12-31T23:59:59.000Z');
  });

  it('dead-letters an expiry before the storable range', () => {
    const old = { ...used, token: { ...used.token, expires_at: '1990-01-01T00:00:00.000Z' } };
    expect(decode(JSON.stringify(old))).toMatchObject({
      kind: 'dead_letter',
      reason: '"token.expires_at" must lie after 2001-09-09, got 1990-01-01T00:00:00.000Z',
    });
  });
});
