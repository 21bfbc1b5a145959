import type { TokenEvent } from '../contract.js';
import { eventTime } from './eventTime.js';
import { field, type Json } from './field.js';

/** A token lifecycle change found in a Kubernetes audit event; k8sAudit adds id, time and source. */
export type K8sLifecycle = {
  suffix: 'issued' | 'revoked' | 'disabled';
  event: Omit<TokenEvent, 'id' | 'time'>;
};

/**
 * RBAC bindings are not in the audit log, so what a token may do is unknown: it is granted
 * everything in Kubernetes and out-of-scope detection stays quiet rather than wrong.
 */
const GRANTED = ['k8s:*'];
const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
const BOOTSTRAP_TYPE = 'bootstrap.kubernetes.io/token';
// Legacy token secrets are named `<account>-token-` + 5 chars of the alphabet Kubernetes uses
// for generated names (no vowels, no 0, 1 or 3): tight enough that `github-token` does not match.
const LEGACY_NAME = /^(.+)-token-[bcdfghjklmnpqrstvwxz2456789]{5}$/;
const BOOTSTRAP_NAME = /^bootstrap-token-([a-z0-9]{6})$/;

/**
 * Token lifecycle changes a request made, whatever its outcome (the caller drops failed ones):
 * TokenRequest → issued, service-account deletion → principal.disabled, creation or deletion of
 * a service-account-token or bootstrap-token secret → issued / revoked.
 */
export function k8sLifecycle(rec: Json, time: string | undefined): K8sLifecycle[] {
  const ref = field.obj(rec.objectRef);
  const verb = field.str(rec.verb);
  const ns = field.str(ref?.namespace);
  const sub = field.str(ref?.subresource);
  const name = field.str(ref?.name) ?? field.str(field.at(rec, 'responseObject', 'metadata', 'name'));
  const actor = field.str(field.at(rec, 'user', 'username'));
  if (!ns || !name) return [];
  const resource = field.str(ref?.resource);
  if (resource === 'serviceaccounts' && sub === 'token' && verb === 'create') {
    return [tokenRequest(rec, ns, name, actor, time)];
  }
  if (resource === 'serviceaccounts' && !sub && verb === 'delete') {
    const principal = `system:serviceaccount:${ns}:${name}`;
    return [
      {
        suffix: 'disabled',
        event: { type: 'principal.disabled', principal, actor, reason: 'service account deleted' },
      },
    ];
  }
  if (resource !== 'secrets' || sub || (verb !== 'create' && verb !== 'delete')) return [];
  const token = secretToken(rec, ns, name);
  if (!token) return [];
  const attributes = { secret: `${ns}/${name}`, token_evidence: token.evidence };
  const ids = { id: token.id, kind: token.kind, principal: token.principal };
  if (verb === 'create') {
    return [
      {
        suffix: 'issued',
        event: { type: 'token.issued', token: { ...ids, scopes: GRANTED }, actor, attributes },
      },
    ];
  }
  const reason = 'token secret deleted';
  return [{ suffix: 'revoked', event: { type: 'token.revoked', token: ids, actor, reason, attributes } }];
}

function tokenRequest(
  rec: Json,
  ns: string,
  name: string,
  actor: string | undefined,
  time: string | undefined,
) {
  const annotations = field.obj(rec.annotations);
  // Logged since 1.29 (as `authentication.k8s.io/...` before 1.30 renamed it): the same `JTI=<uuid>` the
  // token's later requests carry in user.extra credential-id, which links issue and use.
  const issuedId =
    field.str(annotations?.['authentication.kubernetes.io/issued-credential-id']) ??
    field.str(annotations?.['authentication.k8s.io/issued-credential-id']);
  const spec =
    field.obj(field.at(rec, 'responseObject', 'spec')) ?? field.obj(field.at(rec, 'requestObject', 'spec'));
  const attributes: Record<string, string> = {};
  const audiences = field.strs(spec?.audiences);
  if (audiences.length) attributes.audiences = audiences.join(',');
  const bound = field.obj(spec?.boundObjectRef);
  if (bound) attributes.bound_object = `${field.str(bound.kind) ?? ''}/${field.str(bound.name) ?? ''}`;
  if (!issuedId) attributes.token_id_source = 'service-account-name';
  // The response's expirationTimestamp is what the server granted; the requested
  // expirationSeconds (Request-level logs) is the best guess when only the request is logged.
  let expires = eventTime(field.at(rec, 'responseObject', 'status', 'expirationTimestamp'));
  const seconds = field.num(spec?.expirationSeconds);
  if (!expires && seconds !== undefined && time) {
    expires = new Date(Date.parse(time) + seconds * 1000).toISOString();
    attributes.expires_at_source = 'requested';
  }
  const token = {
    id: issuedId ?? `sa:${ns}:${name}`,
    kind: 'service_account',
    principal: `system:serviceaccount:${ns}:${name}`,
    scopes: GRANTED,
    ...(expires ? { expires_at: expires } : {}),
  };
  return {
    suffix: 'issued',
    event: { type: 'token.issued', token, actor, attributes },
  } satisfies K8sLifecycle;
}

/**
 * Whether a secret holds a token. The secret's type is only in the log at Request level or
 * above (requestObject on create, responseObject on delete); at Metadata level all there is
 * is the name, so the generated-name patterns decide, and `token_evidence` says which it was.
 */
function secretToken(rec: Json, ns: string, name: string) {
  const obj =
    field.obj(rec.requestObject)?.kind === 'Secret'
      ? field.obj(rec.requestObject)
      : field.obj(rec.responseObject);
  const type = field.str(obj?.type);
  const boot = BOOTSTRAP_NAME.exec(name);
  if (boot && ns === 'kube-system' && (!type || type === BOOTSTRAP_TYPE)) {
    const id = boot[1] as string;
    const evidence = type ? 'secret-type' : 'secret-name';
    return { id: `bootstrap:${id}`, kind: 'bootstrap_token', principal: `system:bootstrap:${id}`, evidence };
  }
  const legacy = LEGACY_NAME.exec(name);
  let account: string | undefined;
  if (type === SA_TOKEN_TYPE) {
    account =
      field.str(field.at(obj, 'metadata', 'annotations', 'kubernetes.io/service-account.name')) ??
      legacy?.[1];
  } else if (!type) {
    account = legacy?.[1];
  }
  if (!account) return undefined;
  const evidence = type ? 'secret-type' : 'secret-name';
  return {
    id: `sa:${ns}:${account}`,
    kind: 'service_account',
    principal: `system:serviceaccount:${ns}:${account}`,
    evidence,
  };
}
