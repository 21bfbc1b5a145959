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
import { cloudTrail } from './cloudTrail.js';

const map = (record: unknown) => cloudTrail.map(record, ctx);
const file = fixture('cloudtrail-access-key-lifecycle.json') as { Records: Record<string, unknown>[] };
const record = (i: number) => structuredClone(file.Records[i]) as Record<string, unknown>;

describe('cloudTrail() on fixtures', () => {
  it('says so when a record has its keys lower-cased, rather than that they are missing', () => {
    expect(map({ eventname: 'GetObject', eventsource: 's3.amazonaws.com' })).toEqual({
      kind: 'invalid',
      reason:
        'not a CloudTrail record as CloudTrail writes it: keys are lower-cased ("eventname"), expected "eventName" and "eventSource"',
    });
    expect(map({ eventSource: 's3.amazonaws.com' })).toMatchObject({
      reason: 'not a CloudTrail record: missing "eventName" or "eventSource"',
    });
  });

  it('maps a whole Records file: every key use plus the key lifecycle', () => {
    const events = eventsOf(map(file));
    expect(events.map((e) => `${e.type} ${e.token?.id}`)).toEqual([
      'token.used AKIAEXAMPLEADMIN0001',
      'token.issued AKIAEXAMPLECIBOT0001',
      'token.used AKIAEXAMPLECIBOT0001',
      'token.used AKIAEXAMPLECIBOT0001',
      'token.used AKIAEXAMPLECIBOT0001',
      'token.issued ASIAEXAMPLESESSION01',
      'token.used ASIAEXAMPLESESSION01',
      'token.used AKIAEXAMPLEADMIN0001',
      'token.revoked AKIAEXAMPLECIBOT0001',
      'token.used AKIAEXAMPLEADMIN0001',
      'token.revoked AKIAEXAMPLECIBOT0001',
    ]);
    expect(JSON.stringify(events)).not.toContain('FAKE-SESSION-TOKEN');
    const t = tally(cloudTrail, [file]);
    expect([t.mapped, t.ignored, t.invalid]).toEqual([7, 1, 0]);
  });

  it('maps CreateAccessKey to token.issued for the named user', () => {
    const [, issued] = eventsOf(map(record(0)));
    expect(issued).toEqual({
      id: 'cloudtrail:6b0c1a2e-0000-4000-8000-000000000001:issued',
      time: '2025-03-08T09:00:00.000Z',
      source: 'cloudtrail',
      tenant: '111122223333',
      type: 'token.issued',
      token: { id: 'AKIAEXAMPLECIBOT0001', kind: 'aws_access_key', scopes: ['aws:*'], principal: 'ci-bot' },
      actor: 'admin',
    });
  });

  it('scopes a use by IAM action and answers 403 for AccessDenied', () => {
    const [get] = eventsOf(map(record(1)));
    expect(get?.request).toEqual({
      scope: 'aws:s3:GetObject',
      action: 'GetObject',
      source_ip: '198.51.100.23',
      user_agent: 'aws-sdk-go-v2/1.30.0',
      status: 200,
    });
    const [put] = eventsOf(map(record(2)));
    expect(put?.request?.status).toBe(403);
    expect(put?.attributes?.error_code).toBe('AccessDenied');
    expect(eventsOf(map({ ...record(1), errorCode: 'ExpiredToken' }))[0]?.request?.status).toBe(401);
  });

  it('issues STS session keys with their expiry, read as UTC', () => {
    const [, issued] = eventsOf(map(record(3)));
    expect(issued?.token).toEqual({
      id: 'ASIAEXAMPLESESSION01',
      kind: 'aws_session_key',
      scopes: ['aws:*'],
      principal: 'arn:aws:sts::111122223333:assumed-role/deploy/ci-deploy',
      expires_at: '2025-03-08T10:15:00.000Z',
    });
  });

  it('stands in 0.0.0.0 when an AWS service made the call, and says which', () => {
    const [used] = eventsOf(map(record(4)));
    expect(used?.token?.kind).toBe('aws_session_key');
    expect(used?.request?.source_ip).toBe('0.0.0.0');
    expect(used?.attributes).toMatchObject({
      source_host: 'cloudformation.amazonaws.com',
      invoked_by: 'cloudformation.amazonaws.com',
    });
  });

  it('revokes on deactivation and deletion, not on reactivation', () => {
    const [, deactivated] = eventsOf(map(record(5)));
    expect(deactivated).toMatchObject({
      type: 'token.revoked',
      reason: 'access key deactivated',
      actor: 'admin',
    });
    const [, deleted] = eventsOf(map(record(6)));
    expect(deleted).toMatchObject({ type: 'token.revoked', reason: 'access key deleted' });
    const reactivate = record(5);
    reactivate.requestParameters = {
      userName: 'ci-bot',
      accessKeyId: 'AKIAEXAMPLECIBOT0001',
      status: 'Active',
    };
    const events = eventsOf(map(reactivate));
    expect(events.map((e) => e.type)).toEqual(['token.used']);
    expect(events[0]?.attributes?.reactivated_key).toBe('AKIAEXAMPLECIBOT0001');
  });

  it('ignores console sign-in and dead-letters an envelope with a broken record', () => {
    expect(map(record(7)).kind).toBe('ignored');
    const broken = { Records: [record(1), { ...record(2), eventID: undefined }] };
    expect(map(broken)).toEqual({ kind: 'invalid', reason: 'Records record 1: missing "eventID"' });
    expect(cloudTrail.unwrap?.(broken)).toHaveLength(2);
    expect(cloudTrail.unwrap?.(record(1))).toBeUndefined();
  });
});

describe.skipIf(!HAVE_SAMPLES)('cloudTrail() on public samples', () => {
  // Read lazily: a skipped suite's body still runs to collect its tests.
  const panther = () =>
    readRecords(new URL('panther-labelled/panther_rule_tests.AWS.CloudTrail.jsonl', SAMPLES));

  it('maps Panther’s CloudTrail tests with valid events only', () => {
    const t = tally(cloudTrail, panther());
    expect(t.schemaFailures).toEqual([]);
    expect([t.mapped, t.ignored, t.invalid]).toEqual([351, 98, 26]);
  });

  it('drops Lambda’s API version from the scope and keeps it in the action', () => {
    const lambda = panther().find(
      (r) => JSON.stringify(r).includes('ASIA123456789EXAMPLE') && JSON.stringify(r).includes('bob.ross'),
    );
    const [used] = eventsOf(map(lambda));
    expect(used?.request).toMatchObject({
      scope: 'aws:lambda:UpdateFunctionConfiguration',
      action: 'UpdateFunctionConfiguration20150331v2',
      source_ip: '203.0.113.50',
    });
  });

  it('keeps the use when a GetSessionToken response lacks the new key', () => {
    const gst = panther().find((r) => JSON.stringify(r).includes('"eventID":"abc-123"'));
    const [used] = eventsOf(map(gst));
    expect(used?.attributes?.unmapped_lifecycle).toBe(
      'GetSessionToken without "responseElements.credentials.accessKeyId"',
    );
  });

  it('sees the attacker mint root and IAM-user keys in the compromised-root scenario', () => {
    const records = sampleFiles('panther-scenario-compromised-root-creds', /cloudtrail\.yml$/).flatMap(
      readRecords,
    );
    const t = tally(cloudTrail, records);
    expect([t.mapped, t.ignored, t.invalid]).toEqual([2, 14, 0]);
    expect(t.events.map((e) => [e.type, e.token?.id, e.token?.principal, e.actor])).toEqual([
      ['token.issued', 'AKIA5ZZZK44445XXFFVB', 'Root', 'root'],
      ['token.issued', 'AKIASWJJJ66ZZZII4IYY', 'tracy_stone', 'root'],
    ]);
  });
});
