/** Scope coverage with `*` suffix wildcards (`projects:*` covers `projects:read`). */

interface ScopeGrant {
  exact: Set<string>;
  prefixes: string[];
}

function compileGrant(granted: readonly string[]): ScopeGrant {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const scope of granted) {
    if (scope.endsWith('*')) prefixes.push(scope.slice(0, -1));
    else exact.add(scope);
  }
  return { exact, prefixes };
}

/**
 * A `scopeCovered(granted, used)` function that compiles each granted list once. Token scope
 * lists are interned by the token table, so the cache keyed by list identity stays small.
 */
export function createScopeChecker(): (granted: readonly string[], used: string) => boolean {
  const cache = new WeakMap<readonly string[], ScopeGrant>();
  return (granted, used) => {
    let grant = cache.get(granted);
    if (!grant) {
      grant = compileGrant(granted);
      cache.set(granted, grant);
    }
    if (grant.exact.has(used)) return true;
    for (const prefix of grant.prefixes) if (used.startsWith(prefix)) return true;
    return false;
  };
}
