import { describe, expect, it } from 'vitest';
import {
  ctx,
  eventsOf,
  FIXTURES,
  HAVE_SAMPLES,
  readRecords,
  SAMPLES,
  tally,
} from '../../../test/fixtures/adapters/adapterTestKit.js';
import { github } from './github.js';

const map = (record: unknown) => github.map(record, ctx);
const lines = readRecords(new URL('github-token-lifecycle.jsonl', FIXTURES));
const only = (i: number) => {
  const [event] = eventsOf(map(lines[i]));
  return event;
};

describe('github() on fixtures', () => {
  it('maps a classic PAT’s creation to token.issued keyed by token_id', () => {
    expect(only(0)).toEqual({
      id: 'github:pat-create-0001:issued',
      time: '2025-03-08T09:00:00.000Z',
      source: 'github',
      tenant: 'acme',
      type: 'token.issued',
      token: { id: 'github:880001', kind: 'personal_access_token', principal: 'dana', scopes: ['github:*'] },
      actor: 'dana',
      attributes: { token_scopes: 'repo,read:org' },
    });
  });

  it('maps a git clone made with it to token.used on the same id', () => {
    expect(only(1)).toMatchObject({
      time: '2025-03-08T09:10:00.123Z',
      token: { id: 'github:880001', kind: 'personal_access_token_classic', principal: 'dana' },
      request: { scope: 'github:git.clone', resource: 'acme/api', source_ip: '198.51.100.7', status: 200 },
      attributes: { token_scopes: 'repo,read:org' },
    });
  });

  it('falls back to hashed_token, and to 0.0.0.0 when GitHub withheld the IP', () => {
    const used = only(2);
    expect(used?.token?.id).toBe('github:sha256:n3G0xk2Vb1mQ9p8cW7eR6tY5uI4oP3aS2dF1gH0jK9l=');
    expect(used?.request?.source_ip).toBe('0.0.0.0');
    expect(used?.attributes?.source_ip_unknown).toBe('true');
  });

  it('maps destruction and OAuth token lifecycles', () => {
    expect(only(3)).toMatchObject({
      type: 'token.revoked',
      token: { id: 'github:880001' },
      reason: 'personal_access_token.destroy',
    });
    expect(only(6)?.token).toMatchObject({
      id: 'github:770003',
      kind: 'oauth_access_token',
      principal: 'frida',
    });
    expect(only(7)?.type).toBe('token.revoked');
  });

  it('issues a fine-grained PAT when its access is granted, not when requested', () => {
    expect(map(lines[4]).kind).toBe('ignored');
    expect(only(5)).toMatchObject({
      token: { id: 'github:990002', principal: 'erik' },
      actor: 'org-admin',
      attributes: { permissions: '{"contents":"read","metadata":"read"}', repositories: '7001' },
    });
  });

  it('ignores app authorizations without a token and actions made without one', () => {
    expect(map(lines[8])).toEqual({ kind: 'ignored', reason: 'OAuth app authorization that names no token' });
    expect(map(lines[9]).kind).toBe('ignored');
    expect(map({ action: 'personal_access_token.create', _document_id: 'x', '@timestamp': 1 }).kind).toBe(
      'invalid',
    );
  });

  it('ignores what a deploy key did: an SSH key, not a token', () => {
    const record = {
      action: 'git.clone',
      programmatic_access_type: 'deploy_key',
      _document_id: 'd',
      '@timestamp': 1,
    };
    expect(map(record)).toEqual({
      kind: 'ignored',
      reason: 'made with a deploy key (an SSH key, not a token)',
    });
  });
});

describe.skipIf(!HAVE_SAMPLES)('github() on public samples', () => {
  // Read lazily: a skipped suite's body still runs to collect its tests.
  const records = () =>
    readRecords(new URL('panther-labelled/panther_rule_tests.GitHub.Audit.jsonl', SAMPLES));

  it('maps Panther’s GitHub tests with valid events only', () => {
    const t = tally(github, records());
    expect(t.schemaFailures).toEqual([]);
    expect([t.mapped, t.ignored, t.invalid]).toEqual([1, 89, 17]);
    expect(t.reasons.get('ignored: made with a deploy key (an SSH key, not a token)')).toBe(2);
  });

  it('maps the OAuth-token git.clone entry to token.used', () => {
    const t = tally(github, records());
    expect(t.events).toEqual([
      {
        id: 'github:KCYtigpnShPBSohA4OXbRg==:used',
        time: '2023-11-20T21:20:09.423Z',
        source: 'github',
        tenant: 'acme-inc',
        type: 'token.used',
        token: { id: 'github:0123456789', kind: 'oauth_access_token', principal: 'acme-inc-user' },
        request: {
          scope: 'github:git.clone',
          action: 'git.clone',
          resource: 'acme-inc/a-repo',
          source_ip: '5.6.7.8',
          user_agent: 'git/2.30.2',
          status: 200,
        },
        attributes: { programmatic_access_type: 'OAuth access token' },
      },
    ]);
  });
});
