import { describe, expect, it } from 'vitest';
import {
  ctx,
  eventsOf,
  fixture,
  HAVE_SAMPLES,
  readRecords,
  SAMPLES,
  sampleFiles,
  tally,
} from '../../../test/fixtures/adapters/adapterTestKit.js';
import { k8sAudit } from './k8sAudit.js';

const map = (record: unknown) => k8sAudit.map(record, ctx);
const falco = (name: string) => readRecords(new URL(`falco-k8saudit/${name}`, SAMPLES))[0];

describe('k8sAudit() on fixtures', () => {
  it('maps a TokenRequest to token.issued keyed by the issued credential id, without the token', () => {
    const events = eventsOf(map(fixture('k8s-token-request.json')));
    expect(events).toEqual([
      {
        id: 'k8s:4f6c2b0e-1d5a-4c1b-9a7e-2b8f3c9d0e11:issued',
        time: '2025-03-04T10:15:30.123Z',
        source: 'k8s-audit',
        type: 'token.issued',
        token: {
          id: 'JTI=7a1c9e52-3b4d-4f60-8e2a-1c5d7f9b0a13',
          kind: 'service_account',
          principal: 'system:serviceaccount:ci:builder',
          scopes: ['k8s:*'],
          expires_at: '2025-03-04T11:15:37.000Z',
        },
        actor: 'system:node:worker-1',
        attributes: {
          audiences: 'https://kubernetes.default.svc',
          bound_object: 'Pod/builder-7d9f8-abcde',
          source_ip: '10.0.4.21',
        },
      },
    ]);
    expect(JSON.stringify(events)).not.toContain('eyJ');
  });

  it('links a later request to the same token through user.extra credential-id', () => {
    const [used] = eventsOf(map(fixture('k8s-credential-id-use.json')));
    expect(used).toMatchObject({
      id: 'k8s:9c0d7e6f-2a3b-4c5d-8e9f-0a1b2c3d4e5f:used',
      type: 'token.used',
      time: '2025-03-04T10:20:01.000Z',
      token: {
        id: 'JTI=7a1c9e52-3b4d-4f60-8e2a-1c5d7f9b0a13',
        principal: 'system:serviceaccount:ci:builder',
      },
      request: {
        scope: 'k8s:patch:deployments.apps/scale:prod',
        action: 'patch',
        method: 'PATCH',
        resource: 'namespaces/prod/deployments/web/scale',
        source_ip: '10.0.4.87',
        status: 403,
      },
      attributes: {
        pod_name: 'builder-7d9f8-abcde',
        node_name: 'worker-1',
        authorization_decision: 'forbid',
      },
    });
  });

  it('emits both the caller’s use and the issue when a service account mints a token', () => {
    const record = fixture('k8s-token-request.json') as Record<string, unknown>;
    record.user = { username: 'system:serviceaccount:ci:token-broker' };
    const events = eventsOf(map(record));
    expect(events.map((e) => [e.type, e.token?.id])).toEqual([
      ['token.used', 'sa:ci:token-broker'],
      ['token.issued', 'JTI=7a1c9e52-3b4d-4f60-8e2a-1c5d7f9b0a13'],
    ]);
    expect(events[0]?.request?.scope).toBe('k8s:create:serviceaccounts/token:ci');
  });

  it('revokes the account’s token when a service-account-token secret is deleted', () => {
    expect(eventsOf(map(fixture('k8s-sa-token-secret-delete.json')))).toEqual([
      {
        id: 'k8s:c3d2e1f0-7a6b-4c5d-9e8f-1a2b3c4d5e6f:revoked',
        time: '2025-03-05T08:00:00.250Z',
        source: 'k8s-audit',
        type: 'token.revoked',
        token: {
          id: 'sa:ci:deployer',
          kind: 'service_account',
          principal: 'system:serviceaccount:ci:deployer',
        },
        actor: 'alice@example.com',
        reason: 'token secret deleted',
        attributes: {
          secret: 'ci/deployer-long-lived',
          token_evidence: 'secret-type',
          source_ip: '192.0.2.10',
        },
      },
    ]);
  });

  it('maps an EventList whole, or record by record through unwrap', () => {
    const list = fixture('k8s-event-list.json');
    expect(eventsOf(map(list)).map((e) => e.request?.scope)).toEqual(['k8s:list:configmaps:monitoring']);
    const t = tally(k8sAudit, [list]);
    expect([t.mapped, t.ignored, t.invalid]).toEqual([1, 1, 0]);
  });

  it('ignores every stage but the final one, and failed lifecycle requests', () => {
    const record = fixture('k8s-credential-id-use.json') as Record<string, unknown>;
    expect(map({ ...record, stage: 'RequestReceived' }).kind).toBe('ignored');
    const failed = fixture('k8s-token-request.json') as Record<string, unknown>;
    expect(map({ ...failed, responseStatus: { code: 403 } })).toEqual({
      kind: 'ignored',
      reason: 'a token lifecycle request that failed',
    });
  });

  it('dead-letters a service-account request it cannot identify or place', () => {
    const record = fixture('k8s-credential-id-use.json') as Record<string, unknown>;
    expect(map({ ...record, auditID: undefined })).toEqual({ kind: 'invalid', reason: 'missing "auditID"' });
    expect(map({ ...record, sourceIPs: [] }).kind).toBe('invalid');
    expect(map([record]).kind).toBe('invalid');
  });
});

describe.skipIf(!HAVE_SAMPLES)('k8sAudit() on public samples', () => {
  it('maps the falco trace files with valid events only', () => {
    const t = tally(k8sAudit, sampleFiles('falco-k8saudit', /\.json$/).flatMap(readRecords));
    expect(t.schemaFailures).toEqual([]);
    expect([t.mapped, t.ignored, t.invalid]).toEqual([13, 38, 1]);
  });

  it('turns a service-account deletion into principal.disabled', () => {
    expect(eventsOf(map(falco('delete_serviceaccount.json')))).toEqual([
      {
        id: 'k8s:9335a5a0-edc7-4ef0-9177-499c50f3d707:disabled',
        time: '2018-10-26T13:19:30.037Z',
        source: 'k8s-audit',
        type: 'principal.disabled',
        principal: 'system:serviceaccount:default:myacct',
        actor: 'minikube-user',
        reason: 'service account deleted',
        attributes: { source_ip: '192.168.99.1' },
      },
    ]);
  });

  it('recognises legacy and bootstrap token secrets by their generated names', () => {
    const [legacy] = eventsOf(map(falco('create_service_account_token_secret.json')));
    expect(legacy?.token).toEqual({
      id: 'sa:test2:default',
      kind: 'service_account',
      principal: 'system:serviceaccount:test2:default',
      scopes: ['k8s:*'],
    });
    expect(legacy?.attributes?.token_evidence).toBe('secret-name');
    const [boot] = eventsOf(map(falco('create_kube_system_secret.json')));
    expect(boot?.token?.id).toBe('bootstrap:ne7bxu');
    expect(map(falco('delete_secret.json')).kind).toBe('ignored');
  });

  it('maps a controller’s request to token.used with a namespaced scope', () => {
    const [used] = eventsOf(map(falco('create_pod_kube_system_namespace.json')));
    expect(used?.token?.id).toBe('sa:kube-system:replicaset-controller');
    expect(used?.request).toMatchObject({
      scope: 'k8s:create:pods:kube-system',
      source_ip: '::1',
      status: 201,
    });
    expect(map(falco('attach_pod.json')).kind).toBe('ignored');
    expect(map(falco('fal_01_003.json')).kind).toBe('invalid');
  });

  it('ignores audit2rbac’s impersonated service account: the admin’s credential was used', () => {
    const t = tally(k8sAudit, readRecords(new URL('audit2rbac/demo.log', SAMPLES)));
    expect([t.mapped, t.ignored, t.invalid]).toEqual([0, 37, 0]);
    expect(
      t.reasons.get('ignored: a user impersonated a service account: no service-account token was used'),
    ).toBe(5);
  });

  it('reads the Amazon EKS export shape, including its issued-credential-id', () => {
    const records = readRecords(
      new URL('panther-labelled/panther_rule_tests.Amazon.EKS.Audit.jsonl', SAMPLES),
    );
    const t = tally(k8sAudit, records);
    expect(t.schemaFailures).toEqual([]);
    expect([t.mapped, t.ignored, t.invalid]).toEqual([8, 146, 34]);
    const issued = t.events.find((e) => e.id === 'k8s:e5ca89e7-8686-4b7c-b666-f8b863b6f21c:issued');
    expect(issued).toMatchObject({
      time: '2025-08-26T17:40:49.320Z',
      token: {
        id: 'JTI=2e6389af-b8bc-4c26-92d2-714fbe9cb4fa',
        principal: 'system:serviceaccount:kube-system:kube-proxy',
      },
      actor: 'system:node:ip-192-168-3-178.us-west-2.compute.internal',
      attributes: { source_ip: '54.212.83.236' },
    });
    const watch = t.events.find((e) => e.token?.id === 'sa:kube-system:coredns');
    expect(watch?.request?.scope).toBe('k8s:watch:endpointslices.discovery.k8s.io:_cluster');
    expect(watch?.attributes?.pod_name).toBe('coredns-57ff979f67-bl27n');
  });
});
