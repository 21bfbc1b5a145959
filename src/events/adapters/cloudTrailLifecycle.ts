import type { TokenEvent } from '../contract.js';
import { eventTime } from './eventTime.js';
import { field, type Json } from './field.js';

/** A key lifecycle change in a CloudTrail record; cloudTrail adds id, time, source and tenant. */
export type CloudTrailLifecycle = { suffix: 'issued' | 'revoked'; event: Omit<TokenEvent, 'id' | 'time'> };

/**
 * IAM policies are not in CloudTrail, so what a key may do is unknown: it is granted all of
 * AWS (`aws:*`) and out-of-scope detection stays quiet rather than flag every call.
 */
const GRANTED = ['aws:*'];
// STS calls whose response holds a new temporary (ASIA…) key and its expiry.
const STS_ISSUERS = new Set([
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'GetSessionToken',
  'GetFederationToken',
]);

/**
 * Key lifecycle in a successful call: IAM CreateAccessKey → issued, DeleteAccessKey and
 * UpdateAccessKey to Inactive → revoked, STS calls that mint session credentials → issued.
 * Returns a reason string when the record is one of these but lacks the key id.
 */
export function cloudTrailLifecycle(rec: Json, caller: string | undefined): CloudTrailLifecycle[] | string {
  const source = field.str(rec.eventSource);
  const name = field.str(rec.eventName) ?? '';
  const params = field.obj(rec.requestParameters);
  const response = field.obj(rec.responseElements);
  if (source === 'iam.amazonaws.com' && name === 'CreateAccessKey') {
    const key = field.obj(response?.accessKey);
    const id = field.str(key?.accessKeyId);
    if (!id) return 'CreateAccessKey without "responseElements.accessKey.accessKeyId"';
    // No userName in the request means the caller made a key for itself.
    const principal = field.str(key?.userName) ?? field.str(params?.userName) ?? caller;
    const token = { id, kind: 'aws_access_key', scopes: GRANTED, ...(principal ? { principal } : {}) };
    return [{ suffix: 'issued', event: { type: 'token.issued', token, actor: caller } }];
  }
  if (source === 'iam.amazonaws.com' && (name === 'DeleteAccessKey' || name === 'UpdateAccessKey')) {
    const id = field.str(params?.accessKeyId);
    if (!id) return `${name} without "requestParameters.accessKeyId"`;
    // Reactivating a key has no contract-v1 event; cloudTrail records it on the caller's use.
    if (name === 'UpdateAccessKey' && field.str(params?.status) !== 'Inactive') return [];
    const principal = field.str(params?.userName) ?? caller;
    const token = { id, kind: 'aws_access_key', ...(principal ? { principal } : {}) };
    const reason = name === 'DeleteAccessKey' ? 'access key deleted' : 'access key deactivated';
    return [{ suffix: 'revoked', event: { type: 'token.revoked', token, actor: caller, reason } }];
  }
  if (source === 'sts.amazonaws.com' && STS_ISSUERS.has(name)) {
    const credentials = field.obj(response?.credentials);
    const id = field.str(credentials?.accessKeyId);
    if (!id) return `${name} without "responseElements.credentials.accessKeyId"`;
    const principal =
      field.str(field.at(response, 'assumedRoleUser', 'arn')) ??
      field.str(field.at(response, 'federatedUser', 'arn')) ??
      caller;
    const expires = awsTime(credentials?.expiration);
    const token = {
      id,
      kind: 'aws_session_key',
      scopes: GRANTED,
      ...(principal ? { principal } : {}),
      ...(expires ? { expires_at: expires } : {}),
    };
    return [
      {
        suffix: 'issued',
        event: { type: 'token.issued', token, actor: caller, attributes: { issued_via: name } },
      },
    ];
  }
  return [];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DISPLAY = /^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}),? (\d{1,2}):(\d{2}):(\d{2}) ([AP]M)$/;

/**
 * CloudTrail writes response dates in Java's display format, in UTC ("Dec 12, 2024, 4:19:32 PM");
 * Date.parse would read that as local time, so it is parsed by hand.
 */
function awsTime(value: unknown): string | undefined {
  const m = typeof value === 'string' ? DISPLAY.exec(value) : null;
  if (!m) return eventTime(value);
  const month = MONTHS.indexOf(m[1] as string);
  if (month < 0) return undefined;
  const hour = (Number(m[4]) % 12) + (m[7] === 'PM' ? 12 : 0);
  const t = Date.UTC(Number(m[3]), month, Number(m[2]), hour, Number(m[5]), Number(m[6]));
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}
