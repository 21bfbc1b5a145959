import { type Credential, DAY, HOUR } from './model.js';
import type { World } from './world.js';

/** Networks no normal traffic comes from: where stolen tokens get used. */
export const ATTACKER_NETS = ['203.0.113', '198.51.100', '192.0.2', '185.220.101', '45.155.205'];
export const ATTACKER_UA = 'python-requests/2.31.0';

/** A credential in steady use, untouched by other incidents, that fits `ok`. */
export function target(world: World, ok: (c: Credential) => boolean): Credential | undefined {
  const all = world.credentials;
  const t = world.now;
  const from = world.rng.int(all.length);
  for (let i = 0; i < all.length; i++) {
    const c = all[(from + i) % all.length] as Credential;
    const token = c.current;
    if (!c.active || c.principal.touched || c.principal.disabledAt !== null || token === undefined) continue;
    if (c.firstUse === null || c.trafficTo < t + 2 * HOUR || token.revokedAt !== null) continue;
    if ((token.expiresAt ?? Number.POSITIVE_INFINITY) < t + DAY) continue;
    if (!ok(c)) continue;
    c.principal.touched = true;
    return c;
  }
  return undefined;
}

/** Learning periods (new_source's 7 days) are over, with a day to spare. */
export const settled = (world: World) => (c: Credential) => (c.firstUse as number) <= world.now - 8 * DAY;
export const quiet = (c: Credential) => !c.principal.credentials.some((x) => x.cron !== null);

/** A delay drawn from [lo, hi) ms, or from [quickLo, quickHi) when the world packs its incidents (demo). */
export function lag(world: World, lo: number, hi: number, quickLo: number, quickHi: number): number {
  return world.options.quick ? world.rng.between(quickLo, quickHi) : world.rng.between(lo, hi);
}

/** Run `fn` at each of `times` (ms, ascending); returns the last time. */
export function steps(world: World, times: number[], fn: (i: number) => void): number {
  times.forEach((t, i) => {
    world.at(t, () => fn(i));
  });
  return times.at(-1) ?? world.now;
}

export function spread(world: World, from: number, n: number, minGap: number, maxGap: number): number[] {
  const out: number[] = [];
  let t = from;
  for (let i = 0; i < n; i++) {
    out.push(Math.ceil(t));
    t += world.rng.between(minGap, maxGap);
  }
  return out;
}
