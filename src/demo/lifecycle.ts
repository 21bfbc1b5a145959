import type { Credential, Principal } from './model.js';
import { DAY, HOUR } from './model.js';
import { credentialFor } from './population.js';
import { type StartOptions, startCredential } from './traffic.js';
import type { World } from './world.js';

/**
 * Start every initial credential, with a few of them planted as incidents of the scheduled
 * kinds (never used, stale, overdue for rotation, no expiry, orphaned), plus the ordinary
 * churn of a token population: new credentials, short-lived tokens that expire, offboarding.
 */
export function startPopulation(world: World): void {
  const { rng } = world;
  const planted = new Map<Credential, StartOptions>();
  const share = Math.max(2, Math.round(world.credentials.length * 0.012));
  const pool = world.options.scheduledIncidents === false ? [] : shuffled(world, world.credentials);
  const take = (n: number, ok: (c: Credential) => boolean = () => true) => {
    const out: Credential[] = [];
    for (let i = 0; i < pool.length && out.length < n; i++) {
      const c = pool[i] as Credential;
      if (!ok(c)) continue;
      out.push(c);
      // Touched principals fail every test below: nothing is taken twice (no splice: O(n²) at 1M).
      c.principal.touched = true;
    }
    return out;
  };
  const lonely = (c: Credential) => !c.principal.touched && !c.cron;
  // Never used: issued long enough ago, nobody ever called with it.
  for (const c of take(share, lonely)) {
    c.rotateEvery = Number.POSITIVE_INFINITY;
    planted.set(c, { issueAt: rng.between(world.start - 60 * DAY, world.end - 16 * DAY), trafficFrom: null });
  }
  // Stale: used for a while, then its service went away and nobody revoked it. Alone on its
  // principal, whose traffic would otherwise seem to start years before everyone else's.
  for (const c of take(share, (c) => lonely(c) && c.principal.credentials.length === 1)) {
    c.rotateEvery = Number.POSITIVE_INFINITY;
    const issueAt = world.start - rng.between(45, 70) * DAY;
    planted.set(c, {
      issueAt,
      trafficFrom: issueAt + HOUR,
      trafficTo: Math.min(world.end - 32 * DAY, issueAt + rng.between(3, 10) * DAY),
      expires: issueAt + 365 * DAY,
    });
  }
  // Overdue: never rotated in a year or more.
  for (const c of take(share, lonely)) {
    c.rotateEvery = Number.POSITIVE_INFINITY;
    planted.set(c, {
      initial: true,
      issueAt: world.start - rng.between(150, 400) * DAY,
      expires: world.end + 365 * DAY,
    });
  }
  // No expiry: minted by hand without one.
  for (const c of take(share, lonely)) {
    c.rotateEvery = Number.POSITIVE_INFINITY;
    c.lifetime = null;
    planted.set(c, { initial: true, issueAt: world.start - rng.between(2, 40) * DAY, expires: null });
  }
  for (const c of world.credentials) startCredential(world, c, planted.get(c) ?? { initial: true });
  // Orphans: the owner left, one token was never revoked and its job stopped.
  const principals = shuffled(world, world.principals).filter((p) => !p.touched && p.credentials.length > 0);
  for (const p of principals.slice(0, share))
    offboard(world, p, rng.between(world.start + DAY, world.end - DAY), 1);
  // Ordinary offboarding: every token revoked with the account.
  for (const p of principals.slice(share, 2 * share))
    offboard(world, p, rng.between(world.start + DAY, world.end - DAY), 0);
  growth(world);
}

/** Disable `p` at `t`; all but `keep` of its credentials are revoked, the kept ones go quiet. */
export function offboard(
  world: World,
  p: Principal,
  t: number,
  keep: number,
  keepUsing = false,
): Credential[] {
  p.touched = true;
  const kept = p.credentials.slice(0, keep);
  world.at(t, () => {
    for (const c of p.credentials) {
      if (!kept.includes(c) || !keepUsing) c.trafficTo = Math.min(c.trafficTo, t - 1);
      if (!kept.includes(c)) c.active = false;
      c.rotateEvery = Number.POSITIVE_INFINITY;
    }
    world.disable(p, 'left the organisation');
    const revokeAt = t + world.rng.between(5_000, 60_000);
    world.at(revokeAt, () => {
      for (const c of p.credentials)
        if (!kept.includes(c) && c.current) world.revoke(c.current, 'owner disabled');
    });
  });
  return kept;
}

/** New services onboarded and people minting short-lived tokens that simply expire. */
function growth(world: World): void {
  const { rng } = world;
  const span = world.end - world.start;
  const candidates = world.principals.filter((p) => !p.touched && p.disabledAt === null);
  if (candidates.length === 0 || span <= 0) return;
  const added = Math.round(world.credentials.length * 0.08);
  for (let i = 0; i < added; i++) {
    const p = rng.pick(candidates);
    const t = world.start + rng.next() * span;
    const c = credentialFor(rng, p);
    c.peak = rng.pick(world.credentials).peak;
    p.credentials.push(c);
    world.credentials.push(c);
    world.at(t, () => {
      if (p.disabledAt === null) startCredential(world, c, { issueAt: t });
    });
  }
  const users = candidates.filter((p) => p.kind === 'user');
  const temps = Math.round(world.credentials.length * 0.04);
  for (let i = 0; i < temps && users.length > 0; i++) {
    const p = rng.pick(users);
    const t = world.start + rng.next() * span;
    const c = credentialFor(rng, p);
    c.rotateEvery = Number.POSITIVE_INFINITY;
    c.lifetime = rng.between(2, 7) * DAY;
    p.credentials.push(c);
    world.credentials.push(c);
    world.at(t, () => {
      if (p.disabledAt !== null) return;
      startCredential(world, c, {
        issueAt: t,
        trafficTo: t + (c.lifetime as number) - rng.between(2 * HOUR, DAY),
      });
    });
  }
}

export function shuffled<T>(world: World, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = world.rng.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
