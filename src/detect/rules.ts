import type { Logger } from 'pino';
import {
  CEL_CONSTANTS,
  type CelFunctions,
  createCelEnvironment,
  createCelFunctions,
  RESERVED_NAMES,
} from './celEnv.js';
import { type CompiledRule, compileRule } from './compileRule.js';
import { builtinDetectors, KNOWN_KINDS, SCHEDULED_KINDS } from './detectors/index.js';
import { type Definitions, gatherDefinitions, type RuleSource, readRuleDir } from './ruleFiles.js';
import { RuleLoadError } from './ruleLoadError.js';
import { type RawItem, type RuleSpec, validateList, validateMacro, validateRule } from './ruleSchema.js';

export type { CompiledRule } from './compileRule.js';
export type { RuleSource } from './ruleFiles.js';
export { RuleLoadError } from './ruleLoadError.js';

/** Everything loaded from a rules directory, compiled. Immutable: reloading builds a new one. */
export interface RuleSet {
  /** Stream rules in file order, disabled ones included (they were checked too). */
  rules: CompiledRule[];
  /** Rules of scheduled kinds without a condition: configuration for the SQL detectors. */
  scheduled: RuleSpec[];
  /** Kinds declared in the files (`- kind: name`), with their descriptions. */
  kinds: ReadonlyMap<string, string>;
  lists: Readonly<Record<string, readonly string[]>>;
  functions: CelFunctions;
  files: string[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Load and compile every rule file in `dir`; a broken file throws RuleLoadError. */
export async function loadRules(dir: string, options: { logger?: Logger } = {}): Promise<RuleSet> {
  const set = compileRuleSet(await readRuleDir(dir));
  options.logger?.info({ dir, rules: set.rules.length, scheduled: set.scheduled.length }, 'rules loaded');
  return set;
}

/** Compile rule files given as text. */
export function compileRuleSet(sources: readonly RuleSource[]): RuleSet {
  const defs = gatherDefinitions(sources);
  const lists = resolveLists(defs);
  const macros = new Map<string, string>();
  for (const item of defs.macros.values()) {
    checkName(item, lists);
    macros.set(item.name, validateMacro(item));
  }
  const functions = createCelFunctions();
  const env = createCelEnvironment(lists, functions);
  const cx = { env, macros, constants: { ...CEL_CONSTANTS, ...lists }, functions };
  const detectors = builtinDetectors();
  const kinds = new Map([...defs.kinds.values()].map((k) => [k.name, String(k.body.desc ?? '')]));
  const rules: CompiledRule[] = [];
  const scheduled: RuleSpec[] = [];
  for (const item of defs.rules.values()) {
    const spec = validateRule(item);
    const detector = detectors.get(spec.kind);
    if (!detector && !(KNOWN_KINDS as readonly string[]).includes(spec.kind) && !kinds.has(spec.kind)) {
      throw new RuleLoadError(
        spec.file,
        spec.name,
        `unknown kind "${spec.kind}"; known kinds are ${[...KNOWN_KINDS, ...kinds.keys()].join(', ')} ` +
          `(declare a new one with "- kind: ${spec.kind}")`,
      );
    }
    if ((SCHEDULED_KINDS as readonly string[]).includes(spec.kind) && spec.condition === '')
      scheduled.push(spec);
    else rules.push(compileRule(spec, detector, cx));
  }
  return { rules, scheduled, kinds, lists, functions, files: sources.map((s) => s.file) };
}

/** Lists by name, with items that name another list replaced by that list's items. */
function resolveLists(defs: Definitions): Record<string, readonly string[]> {
  const raw = new Map([...defs.lists.values()].map((item) => [item.name, validateList(item)]));
  const out: Record<string, readonly string[]> = {};
  const resolve = (name: string, chain: string[]): string[] => {
    if (chain.includes(name)) {
      const item = defs.lists.get(name) as RawItem;
      throw new RuleLoadError(item.file, `list ${name}`, `list cycle ${[...chain, name].join(' -> ')}`);
    }
    return (raw.get(name) ?? []).flatMap((i) => (raw.has(i) ? resolve(i, [...chain, name]) : [i]));
  };
  for (const item of defs.lists.values()) {
    checkName(item, {});
    out[item.name] = Object.freeze(resolve(item.name, []));
  }
  return out;
}

function checkName(item: RawItem, lists: Record<string, unknown>): void {
  const label = `${item.type} ${item.name}`;
  if (!IDENTIFIER.test(item.name)) {
    throw new RuleLoadError(
      item.file,
      label,
      'name must be an identifier (letters, digits, _) to be usable in conditions',
    );
  }
  if (RESERVED_NAMES.has(item.name))
    throw new RuleLoadError(item.file, label, `"${item.name}" is a built-in name`);
  if (item.name in lists) throw new RuleLoadError(item.file, label, `a list is already named "${item.name}"`);
}
