import { type Credential, DAY, HOUR, MINUTE, type Principal } from './model.js';
import { rhythmAt } from './rhythm.js';
import { quiet, steps, target } from './scenarioKit.js';
import { pickOp } from './traffic.js';
import type { World } from './world.js';

function rateNow(world: World, c: Credential): number {
  return (
    c.peak * rhythmAt(c.rhythm, world.now) * (1 + c.growth * Math.max(0, (world.now - world.start) / DAY))
  );
}

/** `n` requests within 45 seconds from the credential's own networks. */
function burst(world: World, c: Credential, from: number, n: number): number {
  const token = c.current;
  const times = Array.from({ length: n }, (_, i) => from + Math.floor((i * 45_000) / n));
  return steps(world, times, () => world.use(token, pickOp(world, c), world.ip(c.nets)));
}

/** Scraping: one token suddenly makes hundreds of requests in a minute. */
export function tokenSpike(world: World): boolean {
  const c = target(world, (c) => quiet(c) && (c.firstUse as number) <= world.now - 2 * DAY);
  if (!c) return false;
  const from = Math.ceil(world.now / MINUTE) * MINUTE + 5_000;
  const n = Math.max(200, Math.ceil(6 * rateNow(world, c)) + 120);
  const end = burst(world, c, from, n);
  world.label({
    kind: 'request_spike',
    token_id: c.current.id,
    principal: c.principal.name,
    time: from,
    end,
    scenario: 'token_spike',
  });
  return true;
}

/** A burst spread over every token of one principal, each token below the per-token floor. */
export function principalSpike(world: World): boolean {
  const live = (p: Principal) =>
    p.credentials.filter(
      (x) =>
        x.active && x.firstUse !== null && x.current?.revokedAt === null && x.trafficTo > world.now + HOUR,
    );
  const c = target(
    world,
    (c) => quiet(c) && live(c.principal).length >= 2 && (c.firstUse as number) <= world.now - 2 * DAY,
  );
  if (!c) return false;
  const creds = live(c.principal);
  const rate = creds.reduce((sum, x) => sum + rateNow(world, x), 0);
  const total = Math.max(300, Math.ceil(6 * rate) + 200);
  const from = Math.ceil(world.now / MINUTE) * MINUTE + 5_000;
  let end = from;
  for (const x of creds) end = Math.max(end, burst(world, x, from, Math.ceil(total / creds.length)));
  world.label({
    kind: 'request_spike',
    token_id: '',
    principal: c.principal.name,
    time: from,
    end,
    scenario: 'principal_spike',
  });
  return true;
}
