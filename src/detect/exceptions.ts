import { type CelContext, EVENT_FIELDS, PRINCIPAL_FIELDS, TOKEN_FIELDS } from './celEnv.js';
import { compileCidrs, isValidCidr } from './cidr.js';
import type { ExceptionSpec } from './ruleSchema.js';

/** True when one of the rule's exceptions silences this match. */
export type ExceptionMatcher = (ctx: CelContext) => boolean;

const ROOTS: Record<string, Record<string, string>> = {
  event: EVENT_FIELDS,
  token: TOKEN_FIELDS,
  principal: PRINCIPAL_FIELDS,
};

type Test = (value: unknown) => boolean;

/**
 * Compile Falco-style exceptions. They run only after a condition matched, so clarity wins
 * over speed; values are compared as text so `200` and `"200"` both match a status.
 * Throws an Error naming the exception when a field, comparison or value is unusable.
 */
export function compileExceptions(specs: readonly ExceptionSpec[]): ExceptionMatcher | null {
  const tuples: Array<Array<{ read: (ctx: CelContext) => unknown; test: Test }>> = [];
  for (const spec of specs) {
    const readers = spec.fields.map((field) => reader(field, spec.name));
    spec.values.forEach((values, row) => {
      tuples.push(
        readers.map((read, i) => ({
          read,
          test: tester(spec.comps[i] ?? '=', values[i], `exception "${spec.name}" value ${row + 1}`),
        })),
      );
    });
  }
  if (tuples.length === 0) return null;
  return (ctx) => tuples.some((tuple) => tuple.every(({ read, test }) => test(read(ctx))));
}

function reader(field: string, exception: string): (ctx: CelContext) => unknown {
  const [root, name, ...rest] = field.split('.');
  const fields = ROOTS[root ?? ''];
  if (
    !fields ||
    !name ||
    !(name in fields) ||
    rest.length > 1 ||
    (rest.length === 1 && name !== 'attributes')
  ) {
    throw new Error(
      `exception "${exception}": unknown field "${field}"; use event.<field>, token.<field>, principal.<field> or event.attributes.<key>`,
    );
  }
  const key = rest[0];
  return (ctx) => {
    const value = (ctx[root as 'event' | 'token' | 'principal'] as unknown as Record<string, unknown>)[name];
    return key === undefined ? value : (value as Record<string, string>)[key];
  };
}

function tester(comp: string, expected: unknown, where: string): Test {
  const want = text(expected);
  switch (comp) {
    case '=':
      return (v) => text(v) === want;
    case '!=':
      return (v) => text(v) !== want;
    case 'startswith':
      return (v) => text(v).startsWith(want);
    case 'endswith':
      return (v) => text(v).endsWith(want);
    case 'contains':
      return (v) => text(v).includes(want);
    case 'in': {
      if (!Array.isArray(expected)) throw new Error(`${where}: "in" needs a list of values`);
      const set = new Set(expected.map(text));
      return (v) => set.has(text(v));
    }
    case 'in_cidr': {
      const cidrs = (Array.isArray(expected) ? expected : [expected]).map(text);
      const bad = cidrs.find((c) => !isValidCidr(c));
      if (bad !== undefined) throw new Error(`${where}: "${bad}" is not a CIDR block`);
      const matcher = compileCidrs(cidrs);
      return (v) => matcher.contains(text(v));
    }
    default:
      throw new Error(`${where}: unknown comparison "${comp}"`);
  }
}

function text(v: unknown): string {
  return Array.isArray(v) ? v.map(String).join(',') : String(v ?? '');
}
