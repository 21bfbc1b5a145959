import type { Credential, Operation } from './model.js';
import { rhythmAt } from './rhythm.js';
import type { Task } from './taskQueue.js';
import type { World } from './world.js';

// Local copies: imported bindings cost a getter per read in this hot loop.
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** How a credential enters the world; the defaults are an initial credential of steady traffic. */
export interface StartOptions {
  initial?: boolean;
  /** Issuance time; initial credentials default to somewhere in their current rotation period. */
  issueAt?: number;
  /** Expiry: a time, null for none; default issuance + lifetime. */
  expires?: number | null;
  /** Steady traffic from/to (ms); `trafficFrom: null` means the token is never used. */
  trafficFrom?: number | null;
  trafficTo?: number;
}

/** Issue a credential's first token and set its traffic, cron and rotations going. */
export function startCredential(world: World, cred: Credential, opts: StartOptions = {}): void {
  const rng = world.rng;
  const issueAt =
    opts.issueAt ??
    (opts.initial ? world.start - rng.between(0.02, 0.95) * Math.min(cred.rotateEvery, 60 * DAY) : world.now);
  if (opts.trafficTo !== undefined) cred.trafficTo = opts.trafficTo;
  world.at(issueAt, () => {
    if (!cred.active) return;
    world.issue(cred, { expires: opts.expires });
    if (Number.isFinite(cred.rotateEvery))
      world.schedule(new Rotation(world, cred, issueAt + cred.rotateEvery));
  });
  const from =
    opts.trafficFrom === null
      ? null
      : (opts.trafficFrom ??
        (opts.initial ? world.start + rng.exp(10 * MINUTE) : issueAt + rng.between(MINUTE, 2 * HOUR)));
  if (from === null) return;
  const traffic = new Traffic(world, cred, Math.max(from, issueAt + 1));
  traffic.time = traffic.next(traffic.time - 1);
  world.schedule(traffic);
  if (cred.cron) world.schedule(new CronJob(world, cred, Math.max(from, world.start)));
}

/** Steady uses: a Poisson process whose rate follows the rhythm and grows, by thinning. */
class Traffic implements Task {
  seq = 0;
  private readonly max: number;

  constructor(
    private readonly world: World,
    private readonly cred: Credential,
    public time: number,
  ) {
    const days = (world.end - world.start) / DAY;
    this.max = cred.peak * (1 + cred.growth * Math.max(0, days));
  }

  run(): void {
    const { cred, world } = this;
    if (!cred.active || this.time >= cred.trafficTo) return;
    const token = cred.current;
    cred.firstUse ??= this.time;
    // Its first uses visit every network it has, as a real client's first days do.
    const ip =
      cred.netsShown < cred.nets.length
        ? world.ip([cred.nets[cred.netsShown++] as string])
        : world.ip(cred.nets);
    world.use(token, pickOp(world, cred), ip, status(world));
    const next = this.next(this.time);
    if (next < cred.trafficTo && next <= world.end) {
      this.time = next;
      world.schedule(this);
    }
  }

  /** The next accepted candidate after `t` (Infinity when past the end). */
  next(t: number): number {
    const { cred, world } = this;
    if (this.max <= 0) return Number.POSITIVE_INFINITY;
    const gap = MINUTE / this.max;
    const limit = Math.min(world.end, cred.trafficTo);
    for (;;) {
      t += Math.max(1, Math.round(world.rng.exp(gap)));
      if (t >= limit) return Number.POSITIVE_INFINITY;
      const grown = 1 + cred.growth * Math.max(0, (t - world.start) / DAY);
      const rate = cred.peak * rhythmAt(cred.rhythm, t) * grown;
      if (world.rng.next() * this.max < rate) return t;
    }
  }
}

/** A scheduled job: the same burst at the same minute every hour (or every day at `hour`). */
class CronJob implements Task {
  seq = 0;
  time: number;
  private left = 0;
  private spacing = 0;

  constructor(
    private readonly world: World,
    private readonly cred: Credential,
    from: number,
  ) {
    this.time = this.nextBurst(from);
  }

  run(): void {
    const { cred, world } = this;
    const cron = cred.cron!;
    if (!cred.active || this.time >= cred.trafficTo) return;
    if (this.left === 0) {
      this.left = Math.round(cron.size * world.rng.between(0.9, 1.1));
      this.spacing = (cron.seconds * 1000) / this.left;
    }
    world.use(cred.current, pickOp(world, cred), world.ip(cred.nets));
    this.left--;
    this.time =
      this.left > 0
        ? this.time + Math.max(1, Math.round(this.spacing * world.rng.between(0.5, 1.5)))
        : this.nextBurst(this.time + MINUTE);
    world.schedule(this);
  }

  private nextBurst(after: number): number {
    const cron = this.cred.cron!;
    const period = cron.hour === null ? HOUR : DAY;
    const offset = (cron.hour ?? 0) * HOUR + cron.minute * MINUTE + 2_000;
    let t = Math.floor(after / period) * period + offset;
    if (t < after) t += period;
    return t;
  }
}

/** Rotate on schedule: a new token that `replaces` the old, traffic moves, the old is revoked. */
class Rotation implements Task {
  seq = 0;

  constructor(
    private readonly world: World,
    private readonly cred: Credential,
    public time: number,
  ) {}

  run(): void {
    const { cred, world } = this;
    if (!cred.active || cred.principal.disabledAt !== null || !Number.isFinite(cred.rotateEvery)) return;
    rotate(world, cred, world.rng.between(5 * MINUTE, 60 * MINUTE));
    this.time += cred.rotateEvery;
    world.schedule(this);
  }
}

/** Issue the successor now and revoke the old token after `revokeAfter` ms; returns the old token. */
export function rotate(world: World, cred: Credential, revokeAfter: number) {
  const old = cred.current;
  world.issue(cred, { replaces: old.id });
  world.at(world.now + revokeAfter, () => world.revoke(old, 'rotated'));
  return old;
}

export function pickOp(world: World, cred: Credential): Operation {
  const ops = cred.principal.ops;
  return ops.length === 1 ? (ops[0] as Operation) : (ops[world.rng.int(ops.length)] as Operation);
}

function status(world: World): number {
  const r = world.rng.next();
  return r < 0.97 ? 200 : r < 0.985 ? 404 : r < 0.995 ? 429 : 500;
}
