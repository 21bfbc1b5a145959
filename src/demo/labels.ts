import { DAY, type Label, type Token } from './model.js';
import type { World } from './world.js';

/** What the scheduled kinds hold a token to; defaults are the (30 d, 14 d, 90 d). */
export interface Policy {
  staleAfter: number;
  neverUsedAfter: number;
  rotateAfter: number;
  /** Per token kind, overriding `rotateAfter`. */
  rotateAfterByKind: Record<string, number>;
  /** Token kinds that must expire; `true`: every kind. */
  requireExpiry: boolean | string[];
  /** How long offboarding may take to revoke a disabled principal's tokens. */
  orphanGrace: number;
}

export const DEFAULT_POLICY: Policy = {
  staleAfter: 30 * DAY,
  neverUsedAfter: 14 * DAY,
  rotateAfter: 90 * DAY,
  rotateAfterByKind: {},
  requireExpiry: true,
  orphanGrace: 3_600_000,
};

/**
 * Labels of the scheduled kinds as of `asOf`, by definition from each token's facts: the
 * ground truth whatever the generator meant (planted incidents, but also any accident).
 */
export function scheduledLabels(world: World, asOf = world.end, policy: Policy = DEFAULT_POLICY): Label[] {
  const out: Label[] = [];
  for (const t of world.tokens) {
    if (!activeAt(t, asOf)) continue;
    const add = (kind: string, time = asOf) =>
      out.push({ kind, token_id: t.id, principal: t.principal.name, time, end: asOf, scenario: kind });
    const disabled = t.principal.disabledAt;
    // Orphaned since the owner was disabled: the stream rule may have said so long before asOf.
    if (disabled !== null && disabled <= asOf - policy.orphanGrace) add('orphaned_token', disabled);
    if (t.firstUse === null || t.firstUse > asOf) {
      if (t.issuedAt <= asOf - policy.neverUsedAfter) add('never_used');
    } else if ((t.lastUse as number) <= asOf - policy.staleAfter) add('stale_unused');
    if (t.issuedAt <= asOf - (policy.rotateAfterByKind[t.kind] ?? policy.rotateAfter))
      add('rotation_overdue');
    const mustExpire =
      policy.requireExpiry === true ||
      (Array.isArray(policy.requireExpiry) && policy.requireExpiry.includes(t.kind));
    if (t.expiresAt === null && mustExpire) add('no_expiry');
  }
  return out;
}

function activeAt(t: Token, asOf: number): boolean {
  return (
    t.issuedAt <= asOf &&
    (t.revokedAt === null || t.revokedAt > asOf) &&
    (t.expiresAt === null || t.expiresAt > asOf)
  );
}
