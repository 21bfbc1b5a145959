import type { TokenEvent } from '../contract.js';
import { cloudTrailLifecycle } from './cloudTrailLifecycle.js';
import { eventId } from './eventId.js';
import { eventTime } from './eventTime.js';
import { field, type Json } from './field.js';
import { mapEnvelope } from './mapEnvelope.js';
import { result } from './result.js';
import { sourceIp } from './sourceIp.js';
import type { Adapter } from './types.js';

/**
 * AWS CloudTrail records, one by one or as a `{"Records":[...]}` file. Every call signed with an
 * access key (`userIdentity.accessKeyId`) → token.used with scope `aws:<service>:<Action>`, the
 * IAM action it needed (`aws:s3:GetObject`); key creation, deletion and deactivation and STS
 * session credentials → see cloudTrailLifecycle. Key ids are not secrets (the secret key never
 * reaches CloudTrail). Tenant is the account the record belongs to.
 */
export const cloudTrail: Adapter = {
  name: 'cloudtrail',
  unwrap(input) {
    const records = field.obj(input)?.Records;
    return records === undefined ? undefined : (field.arr(records) ?? []);
  },
  map(record, ctx) {
    const rec = field.obj(record);
    if (!rec) return result.invalid('a CloudTrail record must be a JSON object');
    if ('Records' in rec)
      return mapEnvelope(field.arr(rec.Records), (r) => cloudTrail.map(r, ctx), 'Records');
    const eventName = field.str(rec.eventName);
    const eventSource = field.str(rec.eventSource);
    if (!eventName || !eventSource) {
      // Some tools lower-case CloudTrail's keys on export; CloudTrail itself writes camelCase.
      const lowered = 'eventname' in rec || 'eventsource' in rec;
      return result.invalid(
        lowered
          ? 'not a CloudTrail record as CloudTrail writes it: keys are lower-cased ("eventname"), expected "eventName" and "eventSource"'
          : 'not a CloudTrail record: missing "eventName" or "eventSource"',
      );
    }
    const identity = field.obj(rec.userIdentity);
    const keyId = field.str(identity?.accessKeyId);
    const caller = principalOf(identity);
    const errorCode = field.str(rec.errorCode);
    // A failed call changed nothing; it is still a use of the key that made it.
    const found = errorCode ? [] : cloudTrailLifecycle(rec, caller);
    // A key-issuing call whose response lacks the key still used the caller's key: keep that use
    // and say what was missing rather than dead-letter it. With no use to keep, it is invalid.
    if (typeof found === 'string' && !keyId) return result.invalid(found);
    const lifecycle = typeof found === 'string' ? [] : found;
    if (!keyId && lifecycle.length === 0) {
      return result.ignored('not signed with an access key: console sign-in, AWS service or anonymous call');
    }
    const recordId = field.str(rec.eventID);
    if (!recordId) return result.invalid('missing "eventID"');
    const time = eventTime(rec.eventTime);
    if (!time) return result.invalid('missing or unreadable "eventTime"');
    const tenant = field.str(rec.recipientAccountId) ?? field.str(identity?.accountId);
    const common = (suffix: string) => ({
      id: eventId('cloudtrail', recordId, suffix),
      time,
      source: 'cloudtrail',
      ...(tenant ? { tenant: tenant.slice(0, 128) } : {}),
    });
    const events: TokenEvent[] = [];
    if (keyId) {
      const used = usedEvent(rec, keyId, caller, eventSource, eventName, errorCode);
      if (typeof found === 'string') used.attributes.unmapped_lifecycle = found;
      events.push({ ...common('used'), ...used });
    }
    for (const { suffix, event } of lifecycle) events.push({ ...common(suffix), ...event });
    return { kind: 'events', events };
  },
};

function usedEvent(
  rec: Json,
  keyId: string,
  caller: string | undefined,
  source: string,
  name: string,
  error?: string,
) {
  const identity = field.obj(rec.userIdentity);
  const service = source.endsWith('.amazonaws.com') ? source.slice(0, -'.amazonaws.com'.length) : source;
  // Lambda logs API versions into names (UpdateFunctionCode20150331v2); the IAM action has none.
  const action = name.replace(/\d{8}(v\d+)?$/, '');
  const { ip, attributes } = sourceIp(rec.sourceIPAddress);
  const region = field.str(rec.awsRegion);
  if (region) attributes.aws_region = region;
  const type = field.str(identity?.type);
  if (type) attributes.identity_type = type;
  const arn = field.str(identity?.arn);
  if (arn) attributes.arn = arn;
  const invokedBy = field.str(identity?.invokedBy);
  if (invokedBy) attributes.invoked_by = invokedBy;
  if (error) attributes.error_code = error;
  const params = field.obj(rec.requestParameters);
  if (name === 'UpdateAccessKey' && !error && field.str(params?.status) === 'Active') {
    attributes.reactivated_key = field.str(params?.accessKeyId) ?? '';
  }
  const userAgent = field.str(rec.userAgent);
  const kind =
    keyId.startsWith('ASIA') || (!keyId.startsWith('AKIA') && type === 'AssumedRole')
      ? 'aws_session_key'
      : 'aws_access_key';
  return {
    type: 'token.used' as const,
    token: { id: keyId, kind, ...(caller ? { principal: caller } : {}) },
    request: {
      scope: `aws:${service}:${action}`.slice(0, 256),
      action: name,
      source_ip: ip,
      ...(userAgent ? { user_agent: userAgent.slice(0, 1024) } : {}),
      status: statusOf(error),
    },
    attributes,
  };
}

/** IAM user name (what CreateAccessKey names), `root`, or the ARN of a role session or federated user. */
function principalOf(identity: Json | undefined): string | undefined {
  const type = field.str(identity?.type);
  if (type === 'IAMUser') return field.str(identity?.userName) ?? field.str(identity?.arn);
  if (type === 'Root') return 'root';
  return field.str(identity?.arn) ?? field.str(identity?.principalId);
}

/** CloudTrail has the error code, not the HTTP status; these are the statuses AWS answers with. */
function statusOf(code: string | undefined): number {
  if (!code) return 200;
  if (/AccessDenied|Unauthorized|Forbidden|Blocked/i.test(code)) return 403;
  if (
    /InvalidClientTokenId|ExpiredToken|SignatureDoesNotMatch|AuthFailure|RequestExpired|IncompleteSignature/.test(
      code,
    )
  ) {
    return 401;
  }
  if (/DryRunOperation/.test(code)) return 412;
  if (/Throttl|TooManyRequests|RequestLimitExceeded/.test(code)) return 429;
  if (/NoSuch|NotFound/.test(code)) return 404;
  if (/InternalError|InternalFailure|ServiceUnavailable/.test(code)) return 500;
  return 400;
}
