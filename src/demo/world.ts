import type { TokenEvent } from '../events/contract.js';
import { planIncidents } from './incidents.js';
import { createIsoFormatter } from './isoTime.js';
import { startPopulation } from './lifecycle.js';
import type { Credential, Label, Operation, Principal, Token } from './model.js';
import { DAY } from './model.js';
import { buildPopulation, scaleRates } from './population.js';
import { Rng } from './rng.js';
import { type Task, TaskQueue } from './taskQueue.js';

export interface WorldOptions {
  /** Same seed and options, same events (ids included) and labels. Default 1. */
  seed?: number | string;
  /** When the population's steady traffic begins (epoch ms); issuances and deep history precede it. */
  start: number;
  /** Length of steady traffic; the world ends at start + days. */
  days: number;
  /** Credentials at the start (each a token that rotates). Default 300. */
  tokens?: number;
  /** Normal uses per day at the start, before growth. Default 150 per credential. */
  eventsPerDay?: number;
  /** Busiest per-minute rate any one credential reaches. Default 300. */
  maxPeak?: number;
  /** Quietest peak rate per minute (default 0.01: a few uses a day, so every network shows early). */
  minPeak?: number;
  /** Share of service principals running a cron job. Default 0.12. */
  cronShare?: number;
  /** Times of stream incidents, assigned to scenarios round-robin. Default: none. */
  incidentTimes?: number[];
  /** Pack each incident's steps into seconds instead of minutes (the demo wants every kind soon). */
  quick?: boolean;
  /** Plant scheduled-kind incidents (stale, never used, overdue, no expiry, orphans). Default true. */
  scheduledIncidents?: boolean;
}

/**
 * A token world that runs itself: principals, their credentials' traffic (daily rhythms,
 * crons, growth), rotations, expiries, offboarding, and injected incidents with labels.
 * `events()` streams contract-v1 events in time order; nothing but per-token facts is kept.
 */
export class World {
  readonly rng: Rng;
  readonly start: number;
  readonly end: number;
  readonly principals: Principal[];
  readonly credentials: Credential[] = [];
  readonly tokens: Token[] = [];
  /** Labels of stream incidents, filled as the stream reaches them. */
  readonly labels: Label[] = [];
  /** Scenarios run and skipped (no eligible target at that time). */
  readonly scenarios: Record<string, { run: number; skipped: number }> = {};
  now = Number.NEGATIVE_INFINITY;
  private readonly queue = new TaskQueue();
  private readonly out: TokenEvent[] = [];
  private readonly iso = createIsoFormatter();
  private readonly idPrefix: string;
  private seq = 0;

  constructor(readonly options: WorldOptions) {
    this.rng = new Rng(options.seed ?? 1);
    this.start = options.start;
    this.end = options.start + options.days * DAY;
    this.idPrefix = `w${options.seed ?? 1}-`;
    const initial = options.tokens ?? 300;
    this.principals = buildPopulation(this.rng, initial, options.cronShare ?? 0.12);
    for (const p of this.principals) this.credentials.push(...p.credentials);
    scaleRates(
      this.credentials,
      options.eventsPerDay ?? initial * 150,
      options.maxPeak ?? 300,
      options.minPeak ?? 0.01,
    );
    startPopulation(this);
    planIncidents(this);
  }

  /** Run `task` at `task.time` (never before the current time). */
  schedule(task: Task): void {
    // Whole milliseconds: event times have millisecond precision, and the queue compares them.
    task.time = Math.ceil(task.time);
    if (task.time < this.now) throw new Error(`task scheduled in the past: ${task.time} < ${this.now}`);
    if (task.time <= this.end) this.queue.push(task);
  }

  at(time: number, run: () => void): void {
    this.schedule({ time, seq: 0, run });
  }

  /** Every event of the world, in time order. */
  *events(): Generator<TokenEvent> {
    for (;;) {
      const task = this.queue.pop();
      if (task === undefined) return;
      this.now = task.time;
      task.run();
      const out = this.out;
      // Tasks run only between yields, so the buffer can be reused.
      for (let i = 0; i < out.length; i++) yield out[i] as TokenEvent;
      out.length = 0;
    }
  }

  label(label: Omit<Label, 'end'> & { end?: number }): void {
    // Whole milliseconds, as the events' times are (World.schedule rounds up).
    this.labels.push({ ...label, time: Math.ceil(label.time), end: Math.ceil(label.end ?? label.time) });
  }

  // Event makers: each stamps the current time, so the stream stays ordered.

  issue(cred: Credential, opts: { expires?: number | null; replaces?: string } = {}): Token {
    const p = cred.principal;
    cred.generation++;
    const token: Token = {
      id: `tok-${p.name}-${p.credentials.indexOf(cred) + 1}${cred.generation > 1 ? `.r${cred.generation}` : ''}`,
      kind: cred.kind,
      principal: p,
      scopes: p.scopes,
      allowedCidrs: cred.allowedCidrs,
      issuedAt: this.now,
      expiresAt: Math.floor(
        opts.expires === undefined ? this.now + (cred.lifetime ?? 0) : (opts.expires ?? 0),
      ),
      revokedAt: null,
      replaces: opts.replaces ?? '',
      firstUse: null,
      lastUse: null,
      uses: 0,
    };
    if (opts.expires === null || (cred.lifetime === null && opts.expires === undefined))
      token.expiresAt = null;
    cred.current = token;
    this.tokens.push(token);
    const spec: NonNullable<TokenEvent['token']> = {
      id: token.id,
      kind: token.kind,
      principal: p.name,
      scopes: token.scopes,
    };
    if (token.expiresAt !== null) spec.expires_at = this.iso(token.expiresAt);
    if (token.allowedCidrs.length > 0) spec.allowed_cidrs = token.allowedCidrs;
    if (token.replaces) spec.replaces = token.replaces;
    this.push({
      id: this.nextId(),
      type: 'token.issued',
      time: this.iso(this.now),
      token: spec,
      tenant: p.tenant,
      source: 'iam',
      actor: 'iam-controller',
    });
    return token;
  }

  use(token: Token, op: Operation, ip: string, status = 200, userAgent = token.principal.userAgent): void {
    if (token.firstUse === null) token.firstUse = this.now;
    token.lastUse = this.now;
    token.uses++;
    this.push({
      id: this.nextId(),
      type: 'token.used',
      time: this.iso(this.now),
      token: { id: token.id },
      request: {
        scope: op.scope,
        action: op.action,
        resource: op.resource,
        method: op.method,
        path: op.path,
        source_ip: ip,
        user_agent: userAgent,
        status,
      },
      tenant: token.principal.tenant,
      source: 'api-gateway',
    });
  }

  /** A use of an id nobody issued (forged, or minted outside the issuer). */
  useUnknown(id: string, op: Operation, ip: string, status: number, tenant: string): void {
    this.push({
      id: this.nextId(),
      type: 'token.used',
      time: this.iso(this.now),
      token: { id },
      request: { ...op, source_ip: ip, user_agent: 'python-requests/2.31.0', status },
      tenant,
      source: 'api-gateway',
    });
  }

  revoke(token: Token, reason: string): void {
    if (token.revokedAt !== null) return;
    token.revokedAt = this.now;
    this.push({
      id: this.nextId(),
      type: 'token.revoked',
      time: this.iso(this.now),
      token: { id: token.id, principal: token.principal.name },
      reason,
      actor: 'iam-controller',
      tenant: token.principal.tenant,
      source: 'iam',
    });
  }

  disable(p: Principal, reason: string): void {
    p.disabledAt = this.now;
    this.push({
      id: this.nextId(),
      type: 'principal.disabled',
      time: this.iso(this.now),
      principal: p.name,
      reason,
      actor: 'hr-sync',
      tenant: p.tenant,
      source: 'directory',
    });
  }

  /** A source address in one of `nets` (a.b.c prefixes). */
  ip(nets: readonly string[]): string {
    const net = nets.length === 1 ? nets[0] : nets[this.rng.int(nets.length)];
    return `${net}.${1 + this.rng.int(254)}`;
  }

  private push(e: TokenEvent): void {
    this.out.push(e);
  }

  private nextId(): string {
    return this.idPrefix + (this.seq++).toString(36);
  }
}

/** Build a world; iterate `world.events()` once. */
export function createWorld(options: WorldOptions): World {
  return new World(options);
}
