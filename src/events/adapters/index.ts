import { cloudTrail } from './cloudTrail.js';
import { github } from './github.js';
import { k8sAudit } from './k8sAudit.js';
import type { Adapter, AdapterName } from './types.js';
import { vault } from './vault.js';

export type { Adapter, AdapterContext, AdapterName, AdapterResult } from './types.js';

/** Every audit-log format Choir maps, by the name configuration and the CLI use. */
export const adapters: Readonly<Record<AdapterName, Adapter>> = {
  'k8s-audit': k8sAudit,
  vault,
  cloudtrail: cloudTrail,
  github,
};

/** The adapter for `name`; contract v1 itself (`choir`) needs none and is not listed. */
export function getAdapter(name: string): Adapter {
  const adapter = Object.hasOwn(adapters, name) ? adapters[name as AdapterName] : undefined;
  if (!adapter) {
    const valid = Object.keys(adapters).join(', ');
    throw new Error(
      `unknown audit-log format "${name}": expected one of ${valid} (or "choir" for contract v1 events)`,
    );
  }
  return adapter;
}
