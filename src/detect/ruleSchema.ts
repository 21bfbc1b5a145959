import { type ResponsePolicy, SEVERITIES, type Severity } from './alert.js';
import { RuleLoadError } from './ruleLoadError.js';

/** Comparisons an exception may use per field (Falco's `comps`). */
export const EXCEPTION_COMPS = ['=', '!=', 'in', 'startswith', 'endswith', 'contains', 'in_cidr'] as const;
export type ExceptionComp = (typeof EXCEPTION_COMPS)[number];

/** Falco-style exception: the rule is silenced when, for any tuple of values, every field matches. */
export interface ExceptionSpec {
  name: string;
  fields: string[];
  comps: ExceptionComp[];
  values: unknown[][];
}

export type ParamValue = number | string | boolean | Array<string | number>;

/** A rule as written, validated but not compiled. */
export interface RuleSpec {
  name: string;
  kind: string;
  desc: string;
  severity: Severity;
  /** CEL as written (macros not yet expanded); '' when the kind's detector supplies a default. */
  condition: string;
  output: string;
  params: Record<string, ParamValue>;
  exceptions: ExceptionSpec[];
  tags: string[];
  response: ResponsePolicy;
  enabled: boolean;
  file: string;
}

/** One top-level YAML item, classified. */
export interface RawItem {
  type: 'rule' | 'list' | 'macro' | 'kind';
  name: string;
  body: Record<string, unknown>;
  file: string;
}

const KEYS: Record<RawItem['type'], string[]> = {
  rule: [
    'rule',
    'kind',
    'desc',
    'condition',
    'output',
    'severity',
    'params',
    'exceptions',
    'tags',
    'response',
    'enabled',
    'override',
  ],
  list: ['list', 'items', 'override'],
  macro: ['macro', 'condition', 'override'],
  kind: ['kind', 'desc'],
};

/** Which of rule/list/macro/kind declaration an item is; unknown keys are refused (typos). */
export function classify(raw: unknown, file: string, index: number): RawItem {
  if (!isRecord(raw))
    throw new RuleLoadError(file, undefined, `item ${index + 1} must be a mapping, got ${show(raw)}`);
  const type = (['rule', 'list', 'macro', 'kind'] as const).find((t) => t in raw);
  if (!type) {
    throw new RuleLoadError(file, undefined, `item ${index + 1} must have one of rule, list, macro or kind`);
  }
  const name = raw[type];
  if (typeof name !== 'string' || name.trim() === '') {
    throw new RuleLoadError(
      file,
      undefined,
      `item ${index + 1}: "${type}" must be a non-empty string, got ${show(name)}`,
    );
  }
  const unknown = Object.keys(raw).filter((k) => !KEYS[type].includes(k));
  if (unknown.length > 0) {
    const where = type === 'rule' ? name : `${type} ${name}`;
    throw new RuleLoadError(
      file,
      where,
      `unknown key(s) ${unknown.join(', ')}; allowed: ${KEYS[type].join(', ')}`,
    );
  }
  return { type, name: name.trim(), body: raw, file };
}

/** Validate a (possibly overridden) rule body. */
export function validateRule(item: RawItem): RuleSpec {
  const b = item.body;
  const fail = (reason: string): never => {
    throw new RuleLoadError(item.file, item.name, reason);
  };
  const text = (key: string, required: boolean): string => {
    const v = b[key];
    if (v === undefined && !required) return '';
    if (typeof v !== 'string' || (required && v.trim() === ''))
      fail(`"${key}" must be a non-empty string, got ${show(v)}`);
    return (v as string).trim();
  };
  const kind = text('kind', true);
  if (!/^[a-z][a-z0-9_]*$/.test(kind)) fail(`"kind" must be snake_case, got "${kind}"`);
  const severity = text('severity', true) as Severity;
  if (!SEVERITIES.includes(severity))
    fail(`"severity" must be one of ${SEVERITIES.join('|')}, got "${severity}"`);
  const tags = b.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))
    fail(`"tags" must be a list of strings`);
  const params = b.params ?? {};
  if (!isRecord(params) || !Object.values(params).every(isParamValue)) {
    fail('"params" must map names to numbers, strings, booleans or lists of them');
  }
  const enabled = b.enabled ?? true;
  if (typeof enabled !== 'boolean') fail(`"enabled" must be true or false, got ${show(enabled)}`);
  return {
    name: item.name,
    kind,
    desc: text('desc', true),
    severity,
    condition: text('condition', false),
    output: text('output', false),
    params: params as Record<string, ParamValue>,
    exceptions: validateExceptions(b.exceptions ?? [], fail),
    tags: tags as string[],
    response: validateResponse(b.response ?? {}, fail),
    enabled: enabled as boolean,
    file: item.file,
  };
}

function validateResponse(raw: unknown, fail: (reason: string) => never): ResponsePolicy {
  if (!isRecord(raw)) return fail('"response" must be a mapping like {confirm: manual, revoke: false}');
  const confirm = raw.confirm ?? 'manual';
  const revoke = raw.revoke ?? false;
  if (confirm !== 'auto' && confirm !== 'manual')
    fail(`"response.confirm" must be auto or manual, got ${show(confirm)}`);
  if (typeof revoke !== 'boolean') fail(`"response.revoke" must be true or false, got ${show(revoke)}`);
  return { confirm: confirm as 'auto' | 'manual', revoke: revoke as boolean };
}

function validateExceptions(raw: unknown, fail: (reason: string) => never): ExceptionSpec[] {
  if (!Array.isArray(raw)) return fail('"exceptions" must be a list');
  return raw.map((e, i) => {
    if (!isRecord(e) || typeof e.name !== 'string') return fail(`exception ${i + 1} needs a "name"`);
    const single = typeof e.fields === 'string';
    const fields = single ? [e.fields as string] : e.fields;
    if (!Array.isArray(fields) || fields.length === 0 || !fields.every((f) => typeof f === 'string')) {
      return fail(`exception "${e.name}": "fields" must be a field name or a non-empty list of them`);
    }
    const comps =
      e.comps === undefined ? fields.map(() => '=') : typeof e.comps === 'string' ? [e.comps] : e.comps;
    if (
      !Array.isArray(comps) ||
      comps.length !== fields.length ||
      !comps.every((c) => EXCEPTION_COMPS.includes(c))
    ) {
      return fail(`exception "${e.name}": "comps" must list one of ${EXCEPTION_COMPS.join(' ')} per field`);
    }
    const values = e.values ?? [];
    if (!Array.isArray(values)) return fail(`exception "${e.name}": "values" must be a list`);
    const tuples = values.map((v) => (single ? [v] : v));
    if (!tuples.every((t) => Array.isArray(t) && t.length === fields.length)) {
      return fail(
        `exception "${e.name}": every entry of "values" must have ${fields.length} value(s), one per field`,
      );
    }
    return {
      name: e.name,
      fields: fields as string[],
      comps: comps as ExceptionComp[],
      values: tuples as unknown[][],
    };
  });
}

/** A list's items (strings; numbers are kept as their text). */
export function validateList(item: RawItem): string[] {
  const items = item.body.items;
  if (!Array.isArray(items) || !items.every((i) => typeof i === 'string' || typeof i === 'number')) {
    throw new RuleLoadError(
      item.file,
      `list ${item.name}`,
      `"items" must be a list of strings, got ${show(items)}`,
    );
  }
  return items.map(String);
}

/** A macro's CEL snippet. */
export function validateMacro(item: RawItem): string {
  const condition = item.body.condition;
  if (typeof condition !== 'string' || condition.trim() === '') {
    throw new RuleLoadError(
      item.file,
      `macro ${item.name}`,
      `"condition" must be a non-empty CEL expression`,
    );
  }
  return condition.trim();
}

function isParamValue(v: unknown): boolean {
  const scalar = (x: unknown) => typeof x === 'number' || typeof x === 'string';
  return scalar(v) || typeof v === 'boolean' || (Array.isArray(v) && v.every(scalar));
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}
