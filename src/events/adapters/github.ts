import type { TokenEvent } from '../contract.js';
import { eventId } from './eventId.js';
import { firstEventTime } from './eventTime.js';
import { field, type Json } from './field.js';
import { result } from './result.js';
import { sourceIp } from './sourceIp.js';
import type { Adapter } from './types.js';

/**
 * GitHub names a token's grants (OAuth scopes `repo`, fine-grained permissions) but not which
 * audit actions they allow, so an issued token is granted `github:*` and the names go to
 * attributes (`token_scopes`, `permissions`, `repositories`).
 */
const GRANTED = ['github:*'];
const TOKEN_CATEGORIES: Record<string, string> = {
  personal_access_token: 'personal_access_token',
  oauth_access: 'oauth_access_token',
  oauth_authorization: 'oauth_access_token',
};
const ISSUE = new Set(['create', 'access_granted', 'regenerate']);
const REVOKE = new Set(['destroy', 'access_revoked', 'revoke']);

/**
 * GitHub audit-log entries (REST API, streaming or export; Panther's `at_sign_timestamp`
 * spelling too). Token creation (`personal_access_token.create|access_granted`,
 * `oauth_access.create`) → token.issued and destruction (`*.destroy|access_revoked`) →
 * token.revoked, keyed by `token_id`. Any other entry made with a token
 * (`programmatic_access_type` plus `token_id` or `hashed_token`) → token.used with scope
 * `github:<action>` (`github:git.clone`). GitHub logs actions that were performed, so status is
 * 200, and `actor_ip` only when IP disclosure is on (else see sourceIp).
 */
export const github: Adapter = {
  name: 'github',
  map(record) {
    const rec = field.obj(record);
    if (!rec) return result.invalid('a GitHub audit entry must be a JSON object');
    const action = field.str(rec.action);
    if (!action) return result.invalid('not a GitHub audit entry: missing "action"');
    const dot = action.indexOf('.');
    const category = action.slice(0, dot);
    const verb = action.slice(dot + 1);
    const lifecycleKind = TOKEN_CATEGORIES[category];
    const lifecycle =
      lifecycleKind && (ISSUE.has(verb) ? 'issued' : REVOKE.has(verb) ? 'revoked' : undefined);
    const accessType = field.str(rec.programmatic_access_type);
    if (lifecycleKind && !lifecycle) {
      return result.ignored(
        'token request or change that neither issues nor revokes (e.g. request_created awaits approval)',
      );
    }
    if (!lifecycle && !accessType)
      return result.ignored('not made with a token: web UI or unauthenticated action');
    if (!lifecycle && /deploy.?key/i.test(accessType ?? ''))
      return result.ignored('made with a deploy key (an SSH key, not a token)');
    const tokenId = field.str(rec.token_id);
    const hashed = field.str(rec.hashed_token);
    if (lifecycle && !tokenId) {
      // An app authorization is a grant to an app, not one token: without token_id there is nothing to track.
      if (category === 'oauth_authorization')
        return result.ignored('OAuth app authorization that names no token');
      return result.invalid(`${action} without "token_id"`);
    }
    if (!lifecycle && !tokenId && !hashed)
      return result.invalid('token use without "token_id" or "hashed_token"');
    const documentId = field.str(rec._document_id);
    if (!documentId) return result.invalid('missing "_document_id"');
    const time = firstEventTime(rec['@timestamp'], rec.at_sign_timestamp, rec.created_at);
    if (!time) return result.invalid('missing or unreadable "@timestamp"/"created_at"');
    const tenant = field.str(rec.org) ?? field.str(rec.business);
    const actor = field.str(rec.actor);
    const base = {
      time,
      source: 'github',
      ...(tenant ? { tenant: tenant.slice(0, 128) } : {}),
    };
    // token_id is GitHub's stable id; the SHA-256 of the token value is the fallback it logs on uses.
    const id = tokenId ? `github:${tokenId}` : `github:sha256:${hashed}`;
    let event: TokenEvent;
    if (lifecycle) {
      const principal = field.str(rec.user) ?? actor;
      const token = { id, kind: lifecycleKind as string, ...(principal ? { principal } : {}) };
      event =
        lifecycle === 'issued'
          ? {
              ...base,
              id: eventId('github', documentId, 'issued'),
              type: 'token.issued',
              token: { ...token, scopes: GRANTED },
              actor,
              attributes: grants(rec),
            }
          : {
              ...base,
              id: eventId('github', documentId, 'revoked'),
              type: 'token.revoked',
              token,
              actor,
              reason: action,
            };
    } else {
      event = {
        ...base,
        id: eventId('github', documentId, 'used'),
        ...usedEvent(rec, id, action, accessType as string, actor),
      };
    }
    return { kind: 'events', events: [event] };
  },
};

function usedEvent(rec: Json, id: string, action: string, accessType: string, actor: string | undefined) {
  const { ip, attributes } = sourceIp(rec.actor_ip);
  const scopes = field.strs(rec.token_scopes);
  if (scopes.length) attributes.token_scopes = scopes.join(',');
  attributes.programmatic_access_type = accessType;
  const repo = field.str(rec.repo) ?? field.str(rec.repository);
  const userAgent = field.str(rec.user_agent);
  // "OAuth access token" → oauth_access_token, "GitHub App server-to-server token" → github_app_server_to_server_token.
  const kind =
    accessType
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_|_$/g, '')
      .slice(0, 64) || 'github_token';
  return {
    type: 'token.used' as const,
    token: { id, kind, ...(actor ? { principal: actor } : {}) },
    request: {
      scope: `github:${action}`.slice(0, 256),
      action,
      ...(repo ? { resource: repo.slice(0, 2048) } : {}),
      source_ip: ip,
      ...(userAgent ? { user_agent: userAgent.slice(0, 1024) } : {}),
      status: 200,
    },
    attributes,
  };
}

/** What the token was granted, by GitHub's names: classic scopes, fine-grained permissions, repositories. */
function grants(rec: Json): Record<string, string> {
  const out: Record<string, string> = {};
  const scopes = field.strs(rec.token_scopes);
  if (scopes.length) out.token_scopes = scopes.join(',');
  const permissions = rec.permissions;
  if (permissions !== undefined) {
    out.permissions = (typeof permissions === 'string' ? permissions : JSON.stringify(permissions)).slice(
      0,
      1024,
    );
  }
  const repos = field.arr(rec.repositories);
  if (repos?.length) out.repositories = repos.map(String).join(',').slice(0, 1024);
  const expires = field.str(rec.expires_at) ?? field.str(rec.token_expiration);
  if (expires) out.token_expires = expires;
  return out;
}
