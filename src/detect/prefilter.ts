import type { ASTNode } from '@marcbachmann/cel-js';
import type { EventType, StoredEvent } from '../events/contract.js';
import type { CelFunctions } from './celEnv.js';
import type { PrincipalView } from './eventView.js';
import { Compiler, Unsupported } from './prefilterCompiler.js';
import type { TokenRecord } from './tokenRecord.js';

/**
 * A cheap JS test run before a rule's CEL condition. Each top-level `&&` operand that uses
 * only fields, literals, comparisons and Choir's functions is compiled to JS; the others
 * count as "maybe". When the prefilter says false the condition is false, so CEL runs only
 * on events that (nearly) match. CEL stays the judge of every alert.
 */
export interface Prefilter {
  /** NO: the condition is false. EXACT: true, and every operand was compiled. MAYBE: ask CEL. */
  test(event: StoredEvent, token: TokenRecord, principal: PrincipalView): PrefilterResult;
  /** Event types the condition can match, when it pins `event.type`; null for any. */
  eventTypes: EventType[] | null;
  /** How many of the top-level operands were compiled (for `rules test` and benchmarks). */
  compiled: number;
  operands: number;
}

export const NO = 0;
export const EXACT = 1;
export const MAYBE = 2;
export type PrefilterResult = typeof NO | typeof EXACT | typeof MAYBE;

/** Compile what can be compiled of `ast`; `constants` are named lists and CEL_CONSTANTS. */
export function compilePrefilter(
  ast: ASTNode,
  constants: Record<string, unknown>,
  params: Record<string, unknown>,
  functions: CelFunctions,
): Prefilter {
  const operands: ASTNode[] = [];
  flattenAnd(ast, operands);
  const values: unknown[] = [];
  const bodies: string[] = [];
  let eventTypes: EventType[] | null = null;
  let exact = true;
  for (const operand of operands) {
    try {
      const compiler = new Compiler(constants, params, values);
      const code = compiler.node(operand);
      if (code.kind !== 'bool') throw new Unsupported();
      exact &&= compiler.exact;
      bodies.push(`try { if ((${code.js}) === false) return 0; } catch { m = 2; }`);
      const types = pinnedTypes(operand);
      if (types) eventTypes = eventTypes ? eventTypes.filter((t) => types.includes(t)) : types;
    } catch (error) {
      if (!(error instanceof Unsupported)) throw error;
      exact = false;
    }
  }
  // Generated from a whitelist of fields and functions; literals are JSON-escaped.
  const body = `let m = ${exact ? EXACT : MAYBE};\n${bodies.join('\n')}\nreturn m;`;
  const make = new Function('k', 'f', `return function prefilter(e, t, p) {\n${body}\n};`) as (
    k: unknown[],
    f: CelFunctions,
  ) => Prefilter['test'];
  return {
    test: make(values, functions),
    eventTypes,
    compiled: bodies.length,
    operands: operands.length,
  };
}

function flattenAnd(node: ASTNode, out: ASTNode[]): void {
  if (node.op === '&&') for (const side of node.args) flattenAnd(side, out);
  else out.push(node);
}

function pinnedTypes(node: ASTNode): EventType[] | undefined {
  const isType = (n: ASTNode) =>
    n.op === '.' && n.args[1] === 'type' && n.args[0].op === 'id' && n.args[0].args === 'event';
  const literal = (n: ASTNode) => (n.op === 'value' && typeof n.args === 'string' ? n.args : undefined);
  if (node.op === '==') {
    const [a, b] = node.args;
    const value = isType(a) ? literal(b) : isType(b) ? literal(a) : undefined;
    return value === undefined ? undefined : [value as EventType];
  }
  if (node.op === 'in' && isType(node.args[0]) && node.args[1].op === 'list') {
    const items = node.args[1].args.map(literal);
    return items.every((i) => i !== undefined) ? (items as EventType[]) : undefined;
  }
  return undefined;
}
