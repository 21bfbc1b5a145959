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
import { vault } from './vault.js';

const map = (record: unknown) => vault.map(record, ctx);
const lines = readRecords(new URL('vault-token-lifecycle.log', FIXTURES));
const line = (i: number) => lines[i] as Record<string, unknown>;
const summary = (i: number) => eventsOf(map(line(i))).map((e) => `${e.type} ${e.token?.id}`);

describe('vault() on fixtures', () => {
  it('ignores request entries: the response entry carries the same call and its outcome', () => {
    expect(map(line(0))).toEqual({
      kind: 'ignored',
      reason: 'request entry: its response entry repeats it with the outcome',
    });
  });

  it('maps token creation to the caller’s use and the new token’s issue', () => {
    const [used, issued] = eventsOf(map(line(1)));
    expect(used).toMatchObject({
      id: 'vault:a1b2c3d4-0001-4000-8000-000000000001:used',
      time: '2025-03-07T09:00:00.004Z',
      token: { id: 'hmac-sha256:c0ffee0caller', principal: 'ent-ci-runner' },
      request: { scope: 'vault:update:auth/token/create', source_ip: '10.1.2.3', status: 200 },
    });
    expect(issued).toEqual({
      id: 'vault:a1b2c3d4-0001-4000-8000-000000000001:issued',
      time: '2025-03-07T09:00:00.004Z',
      source: 'vault',
      type: 'token.issued',
      token: {
        id: 'hmac-sha256:deadbeefchild',
        kind: 'vault_token',
        principal: 'ent-ci-runner',
        scopes: ['vault:*'],
        expires_at: '2025-03-07T10:00:00.000Z',
      },
      actor: 'approle',
      attributes: {
        policies: 'default,deploy',
        display_name: 'token-deploy',
        token_type: 'service',
        entity_id: 'ent-ci-runner',
        issued_via: 'auth/token/create',
      },
    });
  });

  it('maps reads to token.used, with 403 when Vault denied them', () => {
    const [ok] = eventsOf(map(line(2)));
    expect(ok?.request).toEqual({
      scope: 'vault:read:secret/data/deploy/db',
      action: 'read',
      method: 'GET',
      path: 'secret/data/deploy/db',
      source_ip: '10.1.2.40',
      user_agent: 'Go-http-client/1.1',
      status: 200,
    });
    const [denied] = eventsOf(map(line(3)));
    expect(denied?.request?.status).toBe(403);
    expect(denied?.attributes?.error).toContain('permission denied');
  });

  it('records a renewal on the use, since contract v1 cannot move expires_at', () => {
    const events = eventsOf(map(line(4)));
    expect(events).toHaveLength(1);
    expect(events[0]?.attributes).toMatchObject({
      renewed_token: 'hmac-sha256:deadbeefchild',
      renewed_ttl_seconds: '3600',
    });
  });

  it('revokes by accessor and by revoke-self', () => {
    expect(summary(5)).toEqual([
      'token.used hmac-sha256:c0ffee0caller',
      'token.revoked hmac-sha256:deadbeefchild',
    ]);
    expect(summary(7)).toEqual([
      'token.used hmac-sha256:feedface0login',
      'token.revoked hmac-sha256:feedface0login',
    ]);
  });

  it('maps a login to token.issued alone: the entry’s auth is the new token, not a caller', () => {
    expect(summary(6)).toEqual(['token.issued hmac-sha256:feedface0login']);
    expect(map(line(8)).kind).toBe('ignored');
  });

  it('fingerprints an accessor the audit device did not HMAC', () => {
    const entry = structuredClone(line(2));
    (entry.auth as Record<string, unknown>).accessor = 'plainAccessor123';
    const [used] = eventsOf(map(entry));
    expect(used?.token?.id).toBe(ctx.fingerprint('plainAccessor123'));
  });

  it('dead-letters entries it cannot map', () => {
    const entry = structuredClone(line(2));
    delete (entry.request as Record<string, unknown>).remote_address;
    expect(map(entry).kind).toBe('invalid');
    expect(map({ ...line(2), time: 'yesterday' }).kind).toBe('invalid');
    expect(map({ type: 'audit' }).kind).toBe('invalid');
  });
});

describe.skipIf(!HAVE_SAMPLES)('vault() on public samples', () => {
  it('maps the ops-agent Vault log: one request entry ignored, one root-token use', () => {
    const t = tally(vault, readRecords(new URL('opsagent-vault/input.log', SAMPLES)));
    expect([t.mapped, t.ignored, t.invalid]).toEqual([1, 1, 0]);
    expect(t.schemaFailures).toEqual([]);
    expect(t.events).toEqual([
      {
        id: 'vault:45821973-b531-6747-758e-450c5c6afccc:used',
        time: '2025-05-26T23:16:27.520Z',
        source: 'vault',
        type: 'token.used',
        token: { id: 'hmac-sha256:aaaaa11111', kind: 'vault_token', principal: 'root' },
        request: {
          scope: 'vault:update:sys/audit/file',
          action: 'update',
          method: 'POST',
          path: 'sys/audit/file',
          source_ip: '127.0.0.1',
          user_agent: 'Go-http-client/1.1',
          status: 200,
        },
        attributes: { policies: 'root', display_name: 'root', token_type: 'service' },
      },
    ]);
  });
});
