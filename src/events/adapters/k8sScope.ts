import { field, type Json } from './field.js';

const METHODS: Record<string, string> = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETE',
};

/**
 * What a Kubernetes request needed, as a Choir scope:
 * `k8s:<verb>:<resource>[.<group>][/<subresource>]:<namespace>`, where a cluster-scoped
 * resource has namespace `_cluster` (namespace names cannot contain `_`), e.g.
 * `k8s:get:pods:default`, `k8s:create:pods/exec:prod`, `k8s:list:clusterroles.rbac.authorization.k8s.io:_cluster`.
 * The group uses kubectl's `resource.group` spelling so `events` and `events.events.k8s.io`
 * stay apart. Requests without objectRef (`/healthz`, `/apis`) become `k8s:<verb>:url:<path>`.
 * Order is verb first so a grant reads like RBAC: `k8s:get:*` is read anything anywhere.
 */
export function k8sScope(rec: Json, verb: string): { scope: string; resource?: string; method: string } {
  const method = METHODS[verb] ?? verb.toUpperCase().slice(0, 16);
  const ref = field.obj(rec.objectRef);
  const resource = field.str(ref?.resource);
  if (!ref || !resource) {
    const path = (field.str(rec.requestURI) ?? '/').split('?')[0] ?? '/';
    return { scope: `k8s:${verb}:url:${path}`.slice(0, 256), method };
  }
  const group = field.str(ref.apiGroup);
  const sub = field.str(ref.subresource);
  const ns = field.str(ref.namespace);
  const name = field.str(ref.name);
  const qualified = `${resource}${group ? `.${group}` : ''}${sub ? `/${sub}` : ''}`;
  const objectPath = [ns ? `namespaces/${ns}` : undefined, resource, name, sub].filter(Boolean).join('/');
  return {
    scope: `k8s:${verb}:${qualified}:${ns ?? '_cluster'}`.slice(0, 256),
    resource: objectPath,
    method,
  };
}
