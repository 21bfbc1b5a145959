import type { Environment } from '@marcbachmann/cel-js';
import { EVENT_TYPES, type EventType } from '../events/contract.js';
import type { CelContext, CelFunctions } from './celEnv.js';
import type { DetectorDefinition, DetectorParams } from './detectors/types.js';
import { compileExceptions, type ExceptionMatcher } from './exceptions.js';
import { expandMacros, MacroError } from './macros.js';
import { compilePrefilter, type Prefilter } from './prefilter.js';
import { RuleLoadError } from './ruleLoadError.js';
import { celParams, detectorParams } from './ruleParams.js';
import type { RuleSpec } from './ruleSchema.js';
import { compileTemplate, type Template } from './template.js';

/** A rule ready to run: condition compiled once, prefilter built, parameters checked. */
export interface CompiledRule extends RuleSpec {
  /** The condition with macros expanded, as CEL evaluates it. */
  expanded: string;
  /** Parameters as conditions see them (`params.*`): durations in ms. */
  values: Record<string, unknown>;
  dedupWindow: number;
  eventTypes: EventType[] | null;
  prefilter: Prefilter;
  evaluate(ctx: CelContext): boolean;
  exceptionMatch: ExceptionMatcher | null;
  summary: Template | null;
  /** The built-in detector the rule configures, for stateful kinds. */
  detector: DetectorDefinition | undefined;
  detectorParams: DetectorParams;
}

export interface CompileContext {
  env: Environment;
  macros: ReadonlyMap<string, string>;
  constants: Record<string, unknown>;
  functions: CelFunctions;
}

/** Compile one validated rule; every failure is a RuleLoadError naming file, rule and reason. */
export function compileRule(
  spec: RuleSpec,
  detector: DetectorDefinition | undefined,
  cx: CompileContext,
): CompiledRule {
  const fail = (reason: string, cause?: unknown): never => {
    throw new RuleLoadError(spec.file, spec.name, reason, { cause });
  };
  const condition =
    spec.condition || detector?.defaultCondition || fail(`"condition" is required for kind ${spec.kind}`);
  let expanded = '';
  try {
    expanded = expandMacros(condition, cx.macros);
  } catch (error) {
    if (error instanceof MacroError) fail(error.message, error);
    throw error;
  }
  const params = detector ? detectorParams(spec.params, detector.params) : celParams(spec.params);
  if (typeof params === 'string') return fail(params);
  let parsed: ReturnType<Environment['parse']> | undefined;
  try {
    parsed = cx.env.parse(expanded);
  } catch (error) {
    return fail(`condition does not parse: ${celMessage(error)}`, error);
  }
  const check = parsed.check();
  if (!check.valid) fail(`condition is not valid CEL here: ${celMessage(check.error)}`, check.error);
  if (check.type !== 'bool') fail(`condition must be true or false, but it is of type ${check.type}`);
  let exceptionMatch: ExceptionMatcher | null = null;
  try {
    exceptionMatch = compileExceptions(spec.exceptions);
  } catch (error) {
    fail((error as Error).message, error);
  }
  const prefilter = compilePrefilter(parsed.ast, cx.constants, params, cx.functions);
  const unknownType = prefilter.eventTypes?.find((t) => !EVENT_TYPES.includes(t));
  if (unknownType !== undefined) {
    fail(
      `condition compares event.type with "${unknownType}", which is not one of ${EVENT_TYPES.join(', ')}`,
    );
  }
  const run = parsed;
  return {
    ...spec,
    expanded,
    values: params,
    dedupWindow: params.dedup_window as number,
    eventTypes: prefilter.eventTypes,
    prefilter,
    evaluate: (ctx) => run(ctx) === true,
    exceptionMatch,
    summary: spec.output ? compileTemplate(spec.output) : null,
    detector,
    detectorParams: detector ? (params as DetectorParams) : {},
  };
}

/** The first line of a CEL error plus where in the condition it points. */
function celMessage(error: unknown): string {
  const e = error as { message?: string; range?: { start: number } } | undefined;
  const first = e?.message?.split('\n')[0] ?? String(error);
  return e?.range ? `${first} (at character ${e.range.start + 1})` : first;
}
