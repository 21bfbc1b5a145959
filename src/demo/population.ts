import {
  type Credential,
  type Cron,
  DAY,
  type Operation,
  type Principal,
  type PrincipalKind,
  type TokenKind,
} from './model.js';
import { meanRhythm } from './rhythm.js';
import type { Rng } from './rng.js';

const SERVICES = [
  'billing',
  'search',
  'payments',
  'inventory',
  'notify',
  'ledger',
  'catalog',
  'auth',
  'reports',
  'export',
  'media',
  'orders',
  'pricing',
  'shipping',
  'metrics',
  'backup',
  'mailer',
  'geo',
];
const USERS = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'niaj',
  'olivia',
  'peggy',
  'rupert',
  'sybil',
  'trent',
  'victor',
  'walter',
  'yara',
];
const REPOS = ['web', 'api', 'mobile', 'infra', 'docs', 'sdk', 'cli', 'worker'];
const TEAMS = ['sre', 'data', 'growth', 'support', 'security', 'finance'];
const BROWSERS = ['Mozilla/5.0 (Macintosh)', 'curl/8.5.0', 'gh/2.45.0', 'Mozilla/5.0 (X11; Linux x86_64)'];

/** Share of initial credentials per kind, and how many credentials one principal of it holds. */
const MIX: Array<{ kind: PrincipalKind; token: TokenKind; share: number; perPrincipal: [number, number] }> = [
  { kind: 'service', token: 'service_account', share: 0.45, perPrincipal: [1, 4] },
  { kind: 'user', token: 'user', share: 0.25, perPrincipal: [1, 2] },
  { kind: 'ci', token: 'push_only', share: 0.2, perPrincipal: [1, 2] },
  { kind: 'team', token: 'team', share: 0.1, perPrincipal: [1, 3] },
];

/** Credential lifetime (expiry after issuance) and rotation period range, per token kind. */
const POLICY: Record<TokenKind, { lifetime: number; rotate: [number, number] }> = {
  service_account: { lifetime: 365 * DAY, rotate: [30 * DAY, 75 * DAY] },
  user: { lifetime: 90 * DAY, rotate: [25 * DAY, 60 * DAY] },
  push_only: { lifetime: 180 * DAY, rotate: [30 * DAY, 75 * DAY] },
  team: { lifetime: 120 * DAY, rotate: [30 * DAY, 75 * DAY] },
};

/** Principals and their credentials before anything is issued; rates are scaled later. */
export function buildPopulation(rng: Rng, credentials: number, cronShare = 0.12): Principal[] {
  const principals: Principal[] = [];
  const counters = { service: 0, user: 0, ci: 0, team: 0 };
  for (const mix of MIX) {
    let left = Math.max(1, Math.round(credentials * mix.share));
    while (left > 0) {
      const i = counters[mix.kind]++;
      const p = principal(rng, mix.kind, i);
      const n = Math.min(left, mix.perPrincipal[0] + rng.int(mix.perPrincipal[1] - mix.perPrincipal[0] + 1));
      for (let c = 0; c < n; c++) p.credentials.push(credential(rng, p, mix.token));
      if (mix.kind === 'service' && rng.chance(cronShare)) (p.credentials[0] as Credential).cron = cron(rng);
      left -= n;
      principals.push(p);
    }
  }
  return principals;
}

/** Hourly (most) or nightly jobs whose bursts exceed the spike floor, so the detector must know them. */
function cron(rng: Rng): Cron {
  return {
    minute: rng.int(60),
    hour: rng.chance(0.6) ? null : rng.int(6),
    size: Math.round(rng.chance(0.5) ? rng.between(10, 50) : rng.between(80, 250)),
    seconds: Math.round(rng.between(20, 90)),
  };
}

function named(list: readonly string[], i: number): string {
  const base = list[i % list.length] as string;
  return i < list.length ? base : `${base}${Math.floor(i / list.length) + 1}`;
}

function principal(rng: Rng, kind: PrincipalKind, i: number): Principal {
  const tenant = i % 5 === 4 ? 'globex' : 'acme';
  const p: Principal = {
    name: '',
    kind,
    tenant,
    nets: [],
    userAgent: '',
    scopes: [],
    ops: [],
    credentials: [],
    disabledAt: null,
    touched: false,
  };
  if (kind === 'service') {
    const family = named(SERVICES, i);
    p.name = `sa-${family}`;
    // Two /24s of one /23, so a /23 allowlist covers both availability zones.
    const x = 1 + (Math.floor(i / 128) % 250);
    const k = 2 * (i % 128);
    p.nets = rng.chance(0.3) ? [`10.${x}.${k}`, `10.${x}.${k + 1}`] : [`10.${x}.${k}`];
    p.userAgent = `${family.replace(/\d+$/, '')}-svc/1.${i % 9}`;
    const root = family.replace(/\d+$/, '');
    p.scopes = rng.pick([[`${root}:read`], [`${root}:read`, `${root}:write`], [`${root}:*`]]);
  } else if (kind === 'user') {
    p.name = `u-${named(USERS, i)}`;
    p.nets = [`198.18.${i % 4}`, `100.${64 + (Math.floor(i / 256) % 64)}.${i % 256}`];
    p.userAgent = rng.pick(BROWSERS);
    p.scopes = rng.chance(0.6) ? ['repo:read', 'repo:write', 'issues:write'] : ['repo:read'];
  } else if (kind === 'ci') {
    p.name = `ci-${named(REPOS, i)}`;
    p.nets = [`198.19.${i % 8}`];
    p.userAgent = 'gitlab-runner/16.8.0';
    p.scopes = rng.chance(0.7) ? ['registry:push'] : ['registry:push', 'registry:read'];
  } else {
    p.name = `team-${named(TEAMS, i)}`;
    p.nets = [`198.18.${i % 4}`, `172.${16 + (Math.floor(i / 256) % 16)}.${i % 256}`];
    p.userAgent = 'grafana/10.4.1';
    p.scopes = ['dashboards:read', 'metrics:read'];
  }
  p.ops = operations(p);
  return p;
}

/** The operations a principal's tokens perform: exactly the granted scopes (push tokens push). */
function operations(p: Principal): Operation[] {
  const ops: Operation[] = [];
  for (const scope of p.scopes) {
    const [family, verb] = scope.split(':') as [string, string];
    const add = (v: string, action: string, method: string) =>
      ops.push({
        scope: `${family}:${v}`,
        action,
        method,
        path: `/v1/${family}/${v === 'push' ? 'blobs' : 'items'}`,
        resource: `${family}/${p.name}`,
      });
    if (verb === '*' || verb === 'read') add('read', 'read', 'GET');
    if (verb === '*' || verb === 'write') add('write', 'write', 'POST');
    if (verb === 'push') add('push', 'push', 'PUT');
  }
  // Push tokens that may also read still mostly push; reading with one is the misuse rule's case.
  return p.kind === 'ci' ? ops.filter((o) => o.action === 'push') : ops;
}

/** One more credential of the kind its principal holds. */
export function credentialFor(rng: Rng, p: Principal): Credential {
  return credential(rng, p, KIND_OF[p.kind]);
}

const KIND_OF: Record<PrincipalKind, TokenKind> = {
  service: 'service_account',
  user: 'user',
  ci: 'push_only',
  team: 'team',
};

function credential(rng: Rng, p: Principal, kind: TokenKind): Credential {
  const policy = POLICY[kind];
  const median = kind === 'service_account' ? 2 : kind === 'push_only' ? 0.8 : 0.5;
  return {
    principal: p,
    kind,
    current: undefined as never,
    nets: p.nets,
    allowedCidrs: allowlist(rng, p),
    peak: rng.logNormal(median, kind === 'service_account' ? 1.3 : 0.8),
    rhythm: kind === 'service_account' ? 'service' : 'business',
    growth: rng.between(0, 0.03),
    cron: null,
    rotateEvery: rng.between(policy.rotate[0], policy.rotate[1]),
    lifetime: policy.lifetime,
    active: true,
    trafficTo: Number.POSITIVE_INFINITY,
    firstUse: null,
    netsShown: 0,
    generation: 0,
  };
}

function allowlist(rng: Rng, p: Principal): string[] {
  if (p.kind === 'service' && rng.chance(0.4)) {
    const [a, b, c] = (p.nets[0] as string).split('.').map(Number) as [number, number, number];
    return [`${a}.${b}.${c & ~1}.0/23`];
  }
  if (p.kind === 'ci' && rng.chance(0.7)) return [`${p.nets[0]}.0/24`];
  return [];
}

/** Scale peak rates so uses (crons included) come to about `perDay` per day, capping any one credential. */
export function scaleRates(credentials: Credential[], perDay: number, maxPeak: number, minPeak = 0.01): void {
  const means = { service: meanRhythm('service'), business: meanRhythm('business') };
  let raw = 0;
  let crons = 0;
  for (const c of credentials) {
    raw += c.peak * means[c.rhythm] * 1440;
    if (c.cron) crons += c.cron.size * (c.cron.hour === null ? 24 : 1);
  }
  const k = raw > 0 ? Math.max(perDay * 0.2, perDay - crons) / raw : 0;
  // A floor of about three uses a day: rarer tokens would meet their own networks only after
  // new_source's learning period, which no detector can tell from theft.
  for (const c of credentials) c.peak = Math.min(maxPeak, Math.max(minPeak, c.peak * k));
}
