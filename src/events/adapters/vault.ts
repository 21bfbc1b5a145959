import { isIP } from 'node:net';
import type { TokenEvent } from '../contract.js';
import { eventId } from './eventId.js';
import { eventTime } from './eventTime.js';
import { field, type Json } from './field.js';
import { result } from './result.js';
import type { Adapter, AdapterContext } from './types.js';

/**
 * Vault policies are logged by name, not by the paths they allow, so an issued token is granted
 * `vault:*` and its policy names go to `attributes.policies`: a `vault:policy:NAME` scope could
 * never match a request scope (`vault:read:secret/data/app`) and would flag every use.
 */
const GRANTED = ['vault:*'];
const RENEW = /^(auth\/token\/renew(-self|-accessor)?|sys\/(leases\/)?renew(\/.*)?)$/;
const METHODS: Record<string, string> = {
  read: 'GET',
  list: 'LIST',
  delete: 'DELETE',
  create: 'POST',
  update: 'POST',
};

/**
 * HashiCorp Vault audit-device entries (file/socket/syslog JSON). Only `response` entries are
 * mapped: each repeats its request and adds the outcome, so mapping `request` entries too would
 * count every call twice. A response yields: token.used for the calling token (scope
 * `vault:<operation>:<path>`, status 200 or from `error`), token.issued when it returns a new
 * token (`response.auth`: token create, logins, unwrap), token.revoked for revoke-self and
 * revoke-accessor. Tokens are identified by accessor, which the audit device HMACs
 * (`hmac-sha256:…`); a plain accessor (hmac_accessor=false) is fingerprinted.
 */
export const vault: Adapter = {
  name: 'vault',
  map(record, ctx) {
    const rec = field.obj(record);
    if (!rec) return result.invalid('a Vault audit entry must be a JSON object');
    const type = field.str(rec.type);
    if (type === 'request')
      return result.ignored('request entry: its response entry repeats it with the outcome');
    if (type !== 'response')
      return result.invalid('not a Vault audit entry: "type" must be "request" or "response"');
    const req = field.obj(rec.request);
    const path = field.str(req?.path);
    const operation = field.str(req?.operation);
    if (!req || !path || !operation) return result.invalid('missing "request.path" or "request.operation"');
    const renew = RENEW.test(path);
    const issuedAuth = field.obj(field.at(rec, 'response', 'auth'));
    const issued = renew ? undefined : field.str(issuedAuth?.accessor);
    // On a login the entry's `auth` already describes the token being returned, not a caller.
    const callerAuth = field.obj(rec.auth);
    const callerAccessor = field.str(callerAuth?.accessor);
    const caller = callerAccessor && callerAccessor !== issued ? callerAccessor : undefined;
    if (!caller && !issued) return result.ignored('no token: an unauthenticated request or a failed login');
    const requestId = field.str(req.id);
    if (!requestId) return result.invalid('missing "request.id"');
    const time = eventTime(rec.time);
    if (!time) return result.invalid('missing or unreadable "time"');
    const error = field.str(rec.error);

    const events: TokenEvent[] = [];
    const base = (suffix: string) => ({ id: eventId('vault', requestId, suffix), time, source: 'vault' });
    if (caller && callerAuth) {
      const ip = field.str(req.remote_address);
      if (!ip || isIP(ip) === 0) return result.invalid('missing or malformed "request.remote_address"');
      const userAgent = field.str(field.arr(field.at(req, 'headers', 'user-agent'))?.[0]);
      const attributes = { ...tokenAttributes(callerAuth), ...renewAttributes(renew, issuedAuth, ctx) };
      if (error) attributes.error = error.slice(0, 512);
      const revokedByValue =
        /^auth\/token\/revoke(-orphan)?$/.test(path) && field.str(field.at(req, 'data', 'token'));
      // The body names the token by (HMAC of) its value, which no other entry carries: keep it as evidence.
      if (revokedByValue) attributes.revoked_token_hmac = revokedByValue;
      events.push({
        ...base('used'),
        type: 'token.used',
        token: { id: tokenId(caller, ctx), kind: 'vault_token', ...principal(callerAuth) },
        request: {
          scope: `vault:${operation}:${path}`.slice(0, 256),
          action: operation,
          method: METHODS[operation] ?? operation.toUpperCase().slice(0, 16),
          path: path.slice(0, 4096),
          source_ip: ip,
          ...(userAgent ? { user_agent: userAgent.slice(0, 1024) } : {}),
          status: statusOf(error),
        },
        attributes,
      });
    }
    if (error) return { kind: 'events', events };
    const actor = field.str(callerAuth?.display_name);
    if (issued && issuedAuth) {
      const expires = expiresAt(issuedAuth, time);
      const attributes = { ...tokenAttributes(issuedAuth), issued_via: path };
      const token = {
        id: tokenId(issued, ctx),
        kind: 'vault_token',
        ...principal(issuedAuth),
        scopes: GRANTED,
      };
      events.push({
        ...base('issued'),
        type: 'token.issued',
        token: { ...token, ...expires },
        actor,
        attributes,
      });
    }
    const revoked =
      path === 'auth/token/revoke-self'
        ? caller
        : path === 'auth/token/revoke-accessor'
          ? field.str(field.at(req, 'data', 'accessor'))
          : undefined;
    if (revoked) {
      events.push({
        ...base('revoked'),
        type: 'token.revoked',
        token: { id: tokenId(revoked, ctx) },
        actor,
        reason: path,
      });
    }
    return { kind: 'events', events };
  },
};

function tokenId(accessor: string, ctx: AdapterContext): string {
  return accessor.startsWith('hmac-sha256:') ? accessor : ctx.fingerprint(accessor);
}

/** Entity id is the stable identity; the display name (`approle`, `userpass-alice`) is the fallback. */
function principal(auth: Json): { principal?: string } {
  const p = field.str(auth.entity_id) ?? field.str(auth.display_name);
  return p ? { principal: p.slice(0, 256) } : {};
}

function tokenAttributes(auth: Json): Record<string, string> {
  const out: Record<string, string> = {};
  const policies = field.strs(auth.policies);
  if (policies.length) out.policies = policies.join(',');
  for (const key of ['display_name', 'token_type', 'entity_id'] as const) {
    const v = field.str(auth[key]);
    if (v) out[key] = v;
  }
  return out;
}

/** Renewal extends a token's life, which contract v1 cannot express on a use: record it for humans. */
function renewAttributes(
  renew: boolean,
  auth: Json | undefined,
  ctx: AdapterContext,
): Record<string, string> {
  if (!renew || !auth) return {};
  const out: Record<string, string> = {};
  const accessor = field.str(auth.accessor);
  const ttl = field.num(auth.token_ttl) ?? field.num(auth.lease_duration);
  if (accessor) out.renewed_token = tokenId(accessor, ctx);
  if (ttl !== undefined) out.renewed_ttl_seconds = String(ttl);
  return out;
}

/** `token_ttl` seconds after issue; 0 or absent means the token does not expire (root tokens). */
function expiresAt(auth: Json, time: string): { expires_at?: string } {
  const ttl = field.num(auth.token_ttl) ?? field.num(auth.lease_duration);
  if (!ttl) return {};
  const issuedAt = eventTime(auth.token_issue_time) ?? time;
  return { expires_at: new Date(Date.parse(issuedAt) + ttl * 1000).toISOString() };
}

/** Vault's audit entry has the error text, not the HTTP status; these are the codes Vault answers with. */
function statusOf(error: string | undefined): number {
  if (!error) return 200;
  if (/permission denied|invalid token|bad token/i.test(error)) return 403;
  if (/unsupported path|no handler for route/i.test(error)) return 404;
  if (/unsupported operation/i.test(error)) return 405;
  if (/invalid|missing|required|malformed/i.test(error)) return 400;
  return 500;
}
