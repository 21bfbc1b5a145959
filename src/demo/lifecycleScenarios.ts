import { offboard } from './lifecycle.js';
import { type Credential, HOUR, MINUTE, type Operation } from './model.js';
import { credentialFor } from './population.js';
import { ATTACKER_NETS, lag, spread, steps, target } from './scenarioKit.js';
import { pickOp, rotate } from './traffic.js';
import type { World } from './world.js';

export function outOfScope(world: World): boolean {
  const c = target(world, (c) => c.kind !== 'push_only' && !c.principal.scopes.some((s) => s.endsWith(':*')));
  if (!c) return false;
  const family = (c.principal.scopes[0] as string).split(':')[0];
  const scope = world.rng.pick([`${family}:admin`, 'admin:write', `${family}:delete`]);
  const op: Operation = {
    scope,
    action: 'delete',
    method: 'DELETE',
    path: `/v1/${family}/items`,
    resource: `${family}/all`,
  };
  const times = spread(world, world.now, 1 + world.rng.int(4), 10_000, 120_000);
  const end = steps(world, times, () =>
    world.use(c.current, op, world.ip(c.nets), world.rng.chance(0.5) ? 200 : 403),
  );
  world.label({
    kind: 'out_of_scope',
    token_id: c.current.id,
    principal: c.principal.name,
    time: world.now,
    end,
    scenario: 'out_of_scope',
  });
  return true;
}

/** A CI publishing token used to read or delete: half outside its grant, half inside it. */
export function pushMisuse(world: World): boolean {
  const c = target(world, (c) => c.kind === 'push_only');
  if (!c) return false;
  const granted = c.principal.scopes.includes('registry:read');
  const op: Operation = granted
    ? {
        scope: 'registry:read',
        action: 'read',
        method: 'GET',
        path: '/v2/_catalog',
        resource: 'registry/catalog',
      }
    : {
        scope: 'registry:delete',
        action: 'delete',
        method: 'DELETE',
        path: '/v2/app/manifests/latest',
        resource: 'registry/app',
      };
  const times = spread(world, world.now, 1 + world.rng.int(3), 5_000, 60_000);
  const end = steps(world, times, () => world.use(c.current, op, world.ip(c.nets), 200));
  world.label({
    kind: 'out_of_scope',
    token_id: c.current.id,
    principal: c.principal.name,
    time: world.now,
    end,
    scenario: 'push_misuse',
  });
  return true;
}

/** Rotated, and a forgotten client keeps presenting the old token. */
export function useAfterRevoke(world: World): boolean {
  const c = target(world, () => true);
  if (!c) return false;
  const revokeIn = lag(world, MINUTE, 5 * MINUTE, 5_000, 15_000);
  const old = rotate(world, c, revokeIn);
  // Past the rules' 30 s grace for revocation to propagate.
  const first = world.now + revokeIn + lag(world, 2 * MINUTE, 15 * MINUTE, 40_000, 60_000);
  const accepted = world.rng.chance(0.3);
  const gap = world.options.quick ? [5_000, 20_000] : [30_000, 5 * MINUTE];
  const times = spread(world, first, 1 + world.rng.int(5), gap[0] as number, gap[1] as number);
  const end = steps(world, times, () =>
    world.use(old, pickOp(world, c), world.ip(c.nets), accepted ? 200 : 401),
  );
  world.label({
    kind: 'use_after_revoke',
    token_id: old.id,
    principal: c.principal.name,
    time: first,
    end,
    scenario: 'use_after_revoke',
  });
  return true;
}

/** A short-lived token is minted, used, expires, and a script keeps using it. */
export function useAfterExpiry(world: World): boolean {
  const c = target(world, (c) => c.kind === 'user' || c.kind === 'team');
  if (!c) return false;
  const p = c.principal;
  const temp = credentialFor(world.rng, p);
  temp.rotateEvery = Number.POSITIVE_INFINITY;
  const life = lag(world, 20 * MINUTE, 2 * HOUR, 60_000, 90_000);
  temp.lifetime = life;
  p.credentials.push(temp);
  world.credentials.push(temp);
  const token = world.issue(temp, { expires: world.now + life });
  const before = world.options.quick
    ? spread(world, world.now + 5_000, 3, 5_000, 10_000)
    : spread(world, world.now + MINUTE, 3 + world.rng.int(6), MINUTE, (life - 5 * MINUTE) / 10);
  steps(world, before, () => world.use(token, pickOp(world, temp), world.ip(c.nets)));
  // Past the rules' 2 min allowance for clock skew.
  const first = world.now + life + lag(world, 5 * MINUTE, 30 * MINUTE, 130_000, 150_000);
  const accepted = world.rng.chance(0.3);
  const after = spread(world, first, 1 + world.rng.int(4), 10_000, world.options.quick ? 20_000 : 5 * MINUTE);
  const end = steps(world, after, () =>
    world.use(token, pickOp(world, temp), world.ip(c.nets), accepted ? 200 : 401),
  );
  world.label({
    kind: 'use_after_expiry',
    token_id: token.id,
    principal: p.name,
    time: first,
    end,
    scenario: 'use_after_expiry',
  });
  return true;
}

/** A token id nobody issued: forged, or minted outside the issuing system. */
export function unknownToken(world: World): boolean {
  const victim = world.rng.pick(world.principals);
  const id = `tok-${victim.name}-${100 + world.rng.int(900)}x`;
  const op = victim.ops[0] as Operation;
  const net = world.rng.pick(ATTACKER_NETS);
  const times = spread(world, world.now, 1 + world.rng.int(4), 5_000, 90_000);
  const end = steps(world, times, () =>
    world.useUnknown(id, op, world.ip([net]), world.rng.chance(0.7) ? 401 : 200, victim.tenant),
  );
  world.label({
    kind: 'unknown_token',
    token_id: id,
    principal: '',
    time: world.now,
    end,
    scenario: 'unknown_token',
  });
  return true;
}

/** The owner is disabled, one token is left active and its job keeps running. */
export function orphanInUse(world: World): boolean {
  const first = (c: Credential) => c === c.principal.credentials[0];
  const c = target(world, (c) => first(c) && c.peak >= 0.05);
  if (!c) return false;
  const p = c.principal;
  offboard(world, p, world.now, 1, true);
  // Its job runs on, but not past the token's expiry: that would be another incident.
  c.trafficTo = Math.min(c.trafficTo, (c.current.expiresAt ?? Number.POSITIVE_INFINITY) - HOUR);
  // The job's next runs, past the rule's 1 min grace, whatever the token's usual rate.
  const token = c.current;
  const times = spread(
    world,
    world.now + lag(world, 2 * MINUTE, 30 * MINUTE, 70_000, 90_000),
    2,
    10_000,
    60_000,
  );
  steps(world, times, () => world.use(token, pickOp(world, c), world.ip(c.nets)));
  world.label({
    kind: 'orphaned_token',
    token_id: c.current.id,
    principal: p.name,
    time: world.now,
    end: world.end,
    scenario: 'orphan_in_use',
  });
  return true;
}
