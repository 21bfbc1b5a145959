import { field, type Json } from './field.js';

/** The Choir token a Kubernetes request authenticated with. */
export interface K8sCredential {
  tokenId: string;
  kind: 'service_account' | 'bootstrap_token';
  principal: string;
  attributes: Record<string, string>;
}

const SA_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;
const BOOTSTRAP_USER = /^system:bootstrap:([a-z0-9]{6})$/;

/**
 * Which token `user` (the audit event's authenticated user) used, or undefined for people,
 * nodes and client certificates, which are not tokens Choir tracks.
 *
 * Service accounts: since Kubernetes 1.29 a bound token carries a unique id, logged in
 * `user.extra["authentication.kubernetes.io/credential-id"]` as `JTI=<uuid>`; that string is
 * the token id, and the TokenRequest that minted it logs the same value. Older clusters and
 * legacy secret tokens log no id, so every token of the account shares `sa:NS:NAME`.
 * Bootstrap tokens authenticate as `system:bootstrap:<token-id>`; the id part is public.
 */
export function k8sCredential(user: Json | undefined): K8sCredential | undefined {
  const username = field.str(user?.username) ?? '';
  const sa = SA_USER.exec(username);
  if (sa) {
    const credentialId = extra(user, 'authentication.kubernetes.io/credential-id');
    const attributes: Record<string, string> = {};
    const pod = extra(user, 'authentication.kubernetes.io/pod-name');
    const node = extra(user, 'authentication.kubernetes.io/node-name');
    if (pod) attributes.pod_name = pod;
    if (node) attributes.node_name = node;
    if (!credentialId) attributes.token_id_source = 'service-account-name';
    return {
      tokenId: credentialId ?? `sa:${sa[1]}:${sa[2]}`,
      kind: 'service_account',
      principal: username,
      attributes,
    };
  }
  const boot = BOOTSTRAP_USER.exec(username);
  if (boot)
    return { tokenId: `bootstrap:${boot[1]}`, kind: 'bootstrap_token', principal: username, attributes: {} };
  return undefined;
}

/**
 * First value of a `user.extra` key. Amazon EKS exports through Panther rewrite the key
 * `authentication.kubernetes.io/pod-name` as `authentication_kubernetes_io_slash_pod-name`.
 */
function extra(user: Json | undefined, key: string): string | undefined {
  const extras = field.obj(user?.extra);
  if (!extras) return undefined;
  for (const [k, v] of Object.entries(extras)) {
    if (k === key || k.replaceAll('_slash_', '/').replaceAll('_', '.') === key) {
      return field.str(Array.isArray(v) ? v[0] : v);
    }
  }
  return undefined;
}
