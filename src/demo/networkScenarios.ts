import type { Credential } from './model.js';
import { ATTACKER_NETS, ATTACKER_UA, settled, spread, steps, target } from './scenarioKit.js';
import { pickOp } from './traffic.js';
import type { World } from './world.js';

function attackerUses(world: World, c: Credential, nets: string[], from: number, n: number): number {
  const times = spread(world, from, n, 10_000, 60_000);
  return steps(world, times, (i) =>
    world.use(c.current, pickOp(world, c), world.ip([nets[i % nets.length] as string]), 200, ATTACKER_UA),
  );
}

/** A stolen token used from one network it never used before. */
export function newSource(world: World): boolean {
  const c = target(world, (c) => c.nets.length === 1 && c.allowedCidrs.length === 0 && settled(world)(c));
  if (!c) return false;
  const end = attackerUses(world, c, [world.rng.pick(ATTACKER_NETS)], world.now, 1 + world.rng.int(3));
  world.label({
    kind: 'new_source',
    token_id: c.current.id,
    principal: c.principal.name,
    time: world.now,
    end,
    scenario: 'new_source',
  });
  return true;
}

export function outsideAllowlist(world: World): boolean {
  const c = target(world, (c) => c.nets.length === 1 && c.allowedCidrs.length > 0 && settled(world)(c));
  if (!c) return false;
  const end = attackerUses(world, c, [world.rng.pick(ATTACKER_NETS)], world.now, 1 + world.rng.int(3));
  const base = {
    token_id: c.current.id,
    principal: c.principal.name,
    time: world.now,
    end,
    scenario: 'source_outside_allowlist',
  };
  world.label({ ...base, kind: 'source_outside_allowlist' });
  // Outside the allowlist is necessarily a network the token never used: new_source too.
  world.label({ ...base, kind: 'new_source' });
  return true;
}

/** The owner uses the token while two copies are used from two other networks. */
export function concurrentSources(world: World): boolean {
  const c = target(world, (c) => c.nets.length === 1 && c.allowedCidrs.length === 0 && settled(world)(c));
  if (!c) return false;
  const i = world.rng.int(ATTACKER_NETS.length);
  const nets = [ATTACKER_NETS[i] as string, ATTACKER_NETS[(i + 1) % ATTACKER_NETS.length] as string];
  world.use(c.current, pickOp(world, c), world.ip(c.nets));
  const end = attackerUses(world, c, nets, world.now + 15_000, 2 + world.rng.int(3));
  const base = {
    token_id: c.current.id,
    principal: c.principal.name,
    time: world.now,
    end,
    scenario: 'concurrent_sources',
  };
  world.label({ ...base, kind: 'concurrent_sources' });
  world.label({ ...base, kind: 'new_source' });
  return true;
}
