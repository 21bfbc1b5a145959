import { Environment } from '@marcbachmann/cel-js';
import { allowedBy, type CidrMatcher, compileCidrs } from './cidr.js';
import { EventView, PrincipalView } from './eventView.js';
import { formatNetwork } from './net.js';
import { createScopeChecker } from './scopes.js';
import { TokenRecord } from './tokenRecord.js';

/** CEL types of `event.*`: StoredEvent, with numbers as double and no `raw`. */
export const EVENT_FIELDS: Record<string, string> = {
  id: 'string',
  type: 'string',
  time: 'double',
  token_id: 'string',
  token_kind: 'string',
  principal: 'string',
  scopes: 'list<string>',
  expires_at: 'double',
  allowed_cidrs: 'list<string>',
  replaces: 'string',
  request_scope: 'string',
  request_action: 'string',
  request_resource: 'string',
  request_method: 'string',
  request_path: 'string',
  source_ip: 'string',
  user_agent: 'string',
  status: 'double',
  reason: 'string',
  actor: 'string',
  tenant: 'string',
  source: 'string',
  attributes: 'map<string, string>',
};

/** CEL types of `token.*`: issuance facts and use history of the token (see TokenRecord). */
export const TOKEN_FIELDS: Record<string, string> = {
  known: 'bool',
  preexisting: 'bool',
  kind: 'string',
  principal: 'string',
  tenant: 'string',
  scopes: 'list<string>',
  allowed_cidrs: 'list<string>',
  issued_at: 'double',
  expires_at: 'double',
  revoked_at: 'double',
  replaces: 'string',
  first_used_at: 'double',
  last_used_at: 'double',
  uses: 'double',
};

/** CEL types of `principal.*`: the owner of the token the event concerns. */
export const PRINCIPAL_FIELDS: Record<string, string> = { name: 'string', disabled_at: 'double' };

/** What a condition is evaluated against. */
export interface CelContext {
  event: EventView;
  token: TokenRecord;
  principal: PrincipalView;
  params: Record<string, unknown>;
}

/** JS implementations of Choir's CEL functions, shared by CEL and the prefilters. */
export interface CelFunctions {
  scopeCovered(granted: readonly string[], used: string): boolean;
  /** Allowlist test: `ip` in one of `cidrs`, or the placeholder 0.0.0.0 / :: (no address). */
  inCidrs(ip: string, cidrs: readonly string[]): boolean;
  inCidr(ip: string, cidr: string): boolean;
  network(ip: string): string;
}

/** Constants every condition may use besides named lists. */
export const CEL_CONSTANTS: Record<string, number> = {
  never: Number.POSITIVE_INFINITY,
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** Names a list or macro may not take. */
export const RESERVED_NAMES = new Set([
  'event',
  'token',
  'principal',
  'params',
  ...Object.keys(CEL_CONSTANTS),
]);

/** Choir's CEL functions with their caches (one set per rule set, never global). */
export function createCelFunctions(): CelFunctions {
  const lists = new WeakMap<readonly string[], CidrMatcher>();
  const single = new Map<string, CidrMatcher>();
  return {
    scopeCovered: createScopeChecker(),
    inCidrs(ip, cidrs) {
      let matcher = lists.get(cidrs);
      if (!matcher) {
        matcher = compileCidrs(cidrs);
        lists.set(cidrs, matcher);
      }
      // An allowlist test: a placeholder address (no address in the log) is never "outside".
      return allowedBy(matcher, ip);
    },
    inCidr(ip, cidr) {
      let matcher = single.get(cidr);
      if (!matcher) {
        if (single.size > 10_000) single.clear();
        matcher = compileCidrs([cidr]);
        single.set(cidr, matcher);
      }
      return matcher.contains(ip);
    },
    network: (ip) => formatNetwork(ip, 24, 64),
  };
}

/** A CEL environment with Choir's types, functions, constants and the rule set's named lists. */
export function createCelEnvironment(
  lists: Record<string, readonly string[]>,
  fns: CelFunctions,
): Environment {
  const env = new Environment({ homogeneousAggregateLiterals: false })
    .registerType('Event', { ctor: EventView, fields: EVENT_FIELDS })
    .registerType('Token', { ctor: TokenRecord, fields: TOKEN_FIELDS })
    .registerType('Principal', { ctor: PrincipalView, fields: PRINCIPAL_FIELDS })
    .registerVariable('event', 'Event')
    .registerVariable('token', 'Token')
    .registerVariable('principal', 'Principal')
    .registerVariable('params', 'map<string, dyn>')
    .registerFunction('scopeCovered(list<string>, string): bool', fns.scopeCovered)
    .registerFunction('inCidrs(string, list<string>): bool', fns.inCidrs)
    .registerFunction('inCidr(string, string): bool', fns.inCidr)
    .registerFunction('network(string): string', fns.network);
  // Event numbers are doubles; let `event.status == 200` and `event.time - 5 * minute` type-check.
  const num = (v: unknown) => Number(v);
  env.registerOperator('double == int', (a: number, b: bigint) => a === num(b));
  env.registerOperator('double in list<int>', (a: number, l: bigint[]) => l.some((v) => num(v) === a));
  for (const op of ['+', '-', '*'] as const) {
    const apply = (a: number, b: number) => (op === '+' ? a + b : op === '-' ? a - b : a * b);
    env.registerOperator(`double ${op} int`, (a: number, b: bigint) => apply(a, num(b)));
    env.registerOperator(`int ${op} double: double`, (a: bigint, b: number) => apply(num(a), b));
  }
  for (const [name, value] of Object.entries(CEL_CONSTANTS)) env.registerConstant(name, 'double', value);
  for (const [name, items] of Object.entries(lists)) env.registerConstant(name, 'list<string>', [...items]);
  return env;
}
