import { concurrentSources } from './concurrentSources.js';
import { newSource } from './newSource.js';
import { requestSpike } from './requestSpike.js';
import type { DetectorDefinition } from './types.js';
import { unknownToken } from './unknownToken.js';

/** Kinds with a built-in stateful detector; every other stream kind is a plain CEL rule. */
export function builtinDetectors(): Map<string, DetectorDefinition> {
  return new Map([newSource, concurrentSources, requestSpike, unknownToken].map((d) => [d.kind, d]));
}

/** Kinds found by scheduled SQL detectors, not by the stream engine; rules may configure them. */
export const SCHEDULED_KINDS = [
  'stale_unused',
  'never_used',
  'rotation_overdue',
  'no_expiry',
  'orphaned_token',
] as const;

/** Kinds ARCHITECTURE.md names; a rule file must declare any other kind before using it. */
export const KNOWN_KINDS = [
  'out_of_scope',
  'use_after_revoke',
  'use_after_expiry',
  'unknown_token',
  'request_spike',
  'new_source',
  'source_outside_allowlist',
  'concurrent_sources',
  ...SCHEDULED_KINDS,
] as const;

export type { Detector, DetectorDefinition, DetectorOutput, Finding } from './types.js';
