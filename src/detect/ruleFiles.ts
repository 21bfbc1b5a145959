import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { RuleLoadError } from './ruleLoadError.js';
import { classify, type RawItem } from './ruleSchema.js';

/** A rule file's name and text (tests and `rules test` can pass files without a directory). */
export interface RuleSource {
  file: string;
  text: string;
}

/** Every `*.yaml`/`*.yml` directly in `dir`, in name order (later files may override). */
export async function readRuleDir(dir: string): Promise<RuleSource[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (cause) {
    throw new RuleLoadError(dir, undefined, `cannot read the rules directory: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (names.length === 0)
    throw new RuleLoadError(dir, undefined, 'no rule files (*.yaml) in the rules directory');
  return Promise.all(
    names.map(async (n) => ({ file: join(dir, n), text: await readFile(join(dir, n), 'utf8') })),
  );
}

/** Items of all files by type and name, overrides applied. */
export interface Definitions {
  lists: Map<string, RawItem>;
  macros: Map<string, RawItem>;
  kinds: Map<string, RawItem>;
  rules: Map<string, RawItem>;
}

/** Parse YAML and gather definitions. A name defined twice needs `override: true` the second time. */
export function gatherDefinitions(sources: readonly RuleSource[]): Definitions {
  const defs: Definitions = { lists: new Map(), macros: new Map(), kinds: new Map(), rules: new Map() };
  for (const { file, text } of sources) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (cause) {
      throw new RuleLoadError(file, undefined, `invalid YAML: ${(cause as Error).message.split('\n')[0]}`, {
        cause,
      });
    }
    if (doc === null || doc === undefined) continue;
    if (!Array.isArray(doc))
      throw new RuleLoadError(
        file,
        undefined,
        'a rule file must be a YAML list of rule, list, macro or kind items',
      );
    doc.forEach((raw, index) => {
      add(defs, classify(raw, file, index));
    });
  }
  return defs;
}

function add(defs: Definitions, item: RawItem): void {
  const table = { rule: defs.rules, list: defs.lists, macro: defs.macros, kind: defs.kinds }[item.type];
  const earlier = table.get(item.name);
  const override = item.body.override === true;
  const label = item.type === 'rule' ? item.name : `${item.type} ${item.name}`;
  if (item.body.override !== undefined && typeof item.body.override !== 'boolean') {
    throw new RuleLoadError(item.file, label, '"override" must be true or false');
  }
  if (earlier && !override) {
    throw new RuleLoadError(
      item.file,
      label,
      `already defined in ${earlier.file}; add "override: true" to replace it`,
    );
  }
  if (!earlier && override)
    throw new RuleLoadError(item.file, label, 'overrides nothing: no earlier definition');
  const { override: _drop, ...body } = item.body;
  // A rule override changes only the keys it gives (enabled, exceptions, params, …).
  const merged = earlier && item.type === 'rule' ? { ...earlier.body, ...body } : body;
  table.set(item.name, {
    ...item,
    body: merged,
    file: earlier && item.type === 'rule' ? earlier.file : item.file,
  });
}
