import {
  orphanInUse,
  outOfScope,
  pushMisuse,
  unknownToken,
  useAfterExpiry,
  useAfterRevoke,
} from './lifecycleScenarios.js';
import { concurrentSources, newSource, outsideAllowlist } from './networkScenarios.js';
import { principalSpike, tokenSpike } from './volumeScenarios.js';
import type { World } from './world.js';

/** One kind of injected incident: picks a fitting target at `world.now`, plays it, labels it. */
export interface Scenario {
  name: string;
  run(world: World): boolean;
}

export const STREAM_SCENARIOS: Scenario[] = [
  { name: 'out_of_scope', run: outOfScope },
  { name: 'push_misuse', run: pushMisuse },
  { name: 'use_after_revoke', run: useAfterRevoke },
  { name: 'use_after_expiry', run: useAfterExpiry },
  { name: 'unknown_token', run: unknownToken },
  { name: 'new_source', run: newSource },
  { name: 'source_outside_allowlist', run: outsideAllowlist },
  { name: 'concurrent_sources', run: concurrentSources },
  { name: 'token_spike', run: tokenSpike },
  { name: 'principal_spike', run: principalSpike },
  { name: 'orphan_in_use', run: orphanInUse },
];
