import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Ajv, type ErrorObject } from 'ajv';
import { EARLIEST_STORABLE_MS, LATEST_STORABLE_MS, type TokenEvent } from './contract.js';

const SCHEMA_URL = new URL('../../schema/event-v1.schema.json', import.meta.url);

/** `time`: the event's time in epoch ms, parsed once here for normalise(). */
export type Validation = { ok: true; event: TokenEvent; time: number } | { ok: false; reason: string };
export type Validator = (value: unknown) => Validation;

/** Compile contract v1 once; the returned function is the hot path. */
export function createValidator(): Validator {
  const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as JsonSchema;
  // What JSON Schema says: lengths in code points, every error found (for the reason given back).
  const whole = ajv({ allErrors: true }).compile<TokenEvent>(schema);
  // The fast path an event goes through first: its type's rules only (see typeSchemas), lengths in
  // UTF-16 units (ajv's `unicode: false`; counting code points was ~40% of validating an event),
  // stopping at the first error. A string's UTF-16 length is at least its code points, so what it
  // accepts under a maxLength `whole` accepts too; and no minLength is above 1, where the two counts
  // agree (non-empty). Anything it refuses is judged, and explained, by `whole`.
  if (largestMinLength(schema) > 1)
    throw new Error(
      'event schema: a minLength above 1 breaks the fast path of createValidator (validate.ts)',
    );
  // ajv calls `unicode` deprecated and warns at every start; should it go, lengths are counted in
  // code points again: slower, as correct. The same schema compiles with warnings on, for `whole`.
  const fast = ajv({ allErrors: false, unicode: false, logger: false });
  const byType = new Map([...typeSchemas(schema)].map(([type, s]) => [type, fast.compile<TokenEvent>(s)]));
  return (value) => {
    const quick = byType.get((value as { type?: unknown } | null)?.type as string);
    if (quick?.(value) || whole(value)) {
      const event = value as TokenEvent;
      const time = Date.parse(event.time);
      const outOfRange = timeOutOfRange(event, time);
      return outOfRange ? { ok: false, reason: outOfRange } : { ok: true, event, time };
    }
    return { ok: false, reason: explain(whole.errors ?? []) };
  };
}

function ajv(options: { allErrors: boolean; unicode?: boolean; logger?: false }): Ajv {
  const a = new Ajv({ ...options, strict: true, strictRequired: false, allowUnionTypes: true });
  a.addFormat('ip', (s: string) => isIP(s) !== 0);
  a.addFormat('cidr', isCidr);
  return a;
}

/** The largest `minLength` anywhere in a schema (0 when none). */
function largestMinLength(node: unknown): number {
  if (node === null || typeof node !== 'object') return 0;
  let most = 0;
  for (const [key, v] of Object.entries(node)) {
    most = Math.max(most, key === 'minLength' && typeof v === 'number' ? v : largestMinLength(v));
  }
  return most;
}

type JsonSchema = {
  $id?: string;
  allOf?: { if?: { properties?: { type?: { const?: unknown } } } }[];
};

/**
 * The schema as it applies to each event type: its `allOf` with only that type's `if type = X then
 * …` rules, the other types' dropped. For an event of that type the verdict is the whole schema's
 * (the other `if`s fail, so their `then`s do not apply); an event of no known type goes to the whole
 * schema only. Cheaper: ajv allocates an error object for every `if` that
 * fails, three an event, about a third of what validating a valid event allocated.
 */
function typeSchemas(schema: JsonSchema): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  const rules = schema.allOf ?? [];
  const typeOf = (rule: (typeof rules)[number]) => rule.if?.properties?.type?.const;
  for (const rule of rules) {
    const type = typeOf(rule);
    if (typeof type !== 'string') continue;
    out.set(type, {
      ...schema,
      // ajv keys compiled schemas by id.
      $id: `${schema.$id ?? 'event'}?type=${type}`,
      allOf: rules.filter((r) => r === rule || typeOf(r) === undefined),
    });
  }
  return out;
}

/**
 * Times must be storable (contract.ts). An expiry beyond the latest storable time is how issuers
 * write "never" (9999-12-31): normalise() stores it as no expiry and keeps the original text.
 */
function timeOutOfRange(e: TokenEvent, time: number): string | null {
  if (!(time >= EARLIEST_STORABLE_MS && time <= LATEST_STORABLE_MS))
    return `"time" must lie between 2001-09-09 and 2286-11-20, got ${e.time}`;
  const expires = e.token?.expires_at;
  if (expires !== undefined && !(Date.parse(expires) >= EARLIEST_STORABLE_MS))
    return `"token.expires_at" must lie after 2001-09-09, got ${expires}`;
  return null;
}

export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  const ip = slash < 0 ? s : s.slice(0, slash);
  const family = isIP(ip);
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = s.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** Turn ajv's errors into one sentence a producer's author can act on. */
function explain(errors: ErrorObject[]): string {
  const reasons = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    const at = e.instancePath.slice(1).replaceAll('/', '.');
    const field = (name: string) => `"${at ? `${at}.` : ''}${name}"`;
    switch (e.keyword) {
      case 'required':
        reasons.add(`missing required field ${field(String(e.params.missingProperty))}`);
        break;
      case 'enum':
        reasons.add(`"${at}" must be one of ${(e.params.allowedValues as string[]).join(', ')}`);
        break;
      case 'pattern':
        reasons.add(
          at === 'id'
            ? '"id" must not contain control characters'
            : `"${at}" must be an RFC 3339 time with milliseconds and zone, e.g. 2026-01-31T12:00:00.000Z`,
        );
        break;
      case 'format':
        reasons.add(
          `"${at}" must be ${e.params.format === 'cidr' ? 'a CIDR like 10.0.0.0/8' : 'an IP address'}`,
        );
        break;
      case 'type':
        reasons.add(`${at ? `"${at}"` : 'the event'} must be ${article(String(e.params.type))}`);
        break;
      default:
        reasons.add(`"${at}" ${e.message}`);
    }
  }
  return [...reasons].join('; ');
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
