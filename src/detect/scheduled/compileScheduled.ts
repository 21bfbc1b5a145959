import type { CelContext } from '../celEnv.js';
import { compileExceptions, type ExceptionMatcher } from '../exceptions.js';
import { RuleLoadError } from '../ruleLoadError.js';
import type { RuleSpec } from '../ruleSchema.js';
import { compileTemplate, type Template } from '../template.js';
import { type ScheduledParams, scheduledParams } from './params.js';
import type { ScheduledDetector, TokenState } from './types.js';

/** A rule of a scheduled kind, checked and ready to run. */
export interface ScheduledRule {
  spec: RuleSpec;
  detector: ScheduledDetector;
  params: ScheduledParams;
  exceptionMatch: ExceptionMatcher | null;
  summary: Template | null;
}

/**
 * Check the enabled scheduled rules against their detectors: params, exceptions and `output`.
 * Every failure is a RuleLoadError naming file, rule and reason, as for stream rules.
 */
export function compileScheduled(
  specs: readonly RuleSpec[],
  detectors: ReadonlyMap<string, ScheduledDetector>,
): ScheduledRule[] {
  const out: ScheduledRule[] = [];
  for (const spec of specs) {
    const fail = (reason: string, cause?: unknown): never => {
      throw new RuleLoadError(spec.file, spec.name, reason, { cause });
    };
    const detector = detectors.get(spec.kind) ?? fail(`no scheduled detector for kind "${spec.kind}"`);
    const params = scheduledParams(spec.params, detector.params);
    if (typeof params === 'string') return fail(params);
    let exceptionMatch: ExceptionMatcher | null = null;
    try {
      exceptionMatch = compileExceptions(spec.exceptions);
    } catch (error) {
      fail((error as Error).message, error);
    }
    if (!spec.enabled) continue;
    out.push({
      spec,
      detector,
      params,
      exceptionMatch,
      summary: spec.output ? compileTemplate(spec.output) : null,
    });
  }
  return out;
}

const never = (ms: number | null) => ms ?? Number.POSITIVE_INFINITY;

/**
 * What exceptions and `output` templates read for a token found by a scheduled detector:
 * `token.*` and `principal.*` as stream rules see them, `event.*` as the token's issuance.
 */
export function scheduledContext(t: TokenState, params: ScheduledParams): CelContext {
  const token = {
    id: t.token_id,
    known: t.issued_at !== null,
    preexisting: false,
    kind: t.kind,
    principal: t.principal,
    tenant: t.tenant,
    scopes: t.scopes,
    allowed_cidrs: t.allowed_cidrs,
    issued_at: never(t.issued_at),
    expires_at: never(t.expires_at),
    revoked_at: never(t.revoked_at),
    replaces: t.replaces,
    first_used_at: never(t.first_used_at),
    last_used_at: never(t.last_used_at),
    uses: t.uses,
  };
  const event = {
    id: t.issue_event,
    type: 'token.issued',
    time: never(t.issued_at),
    token_id: t.token_id,
    token_kind: t.kind,
    principal: t.principal,
    scopes: t.scopes,
    expires_at: never(t.expires_at),
    allowed_cidrs: t.allowed_cidrs,
    replaces: t.replaces,
    tenant: t.tenant,
    source: t.source,
    attributes: {},
  };
  const principal = { name: t.principal, disabled_at: never(t.disabled_at) };
  // Plain objects with the fields of the engine's views: exceptions and templates only read fields.
  return { event, token, principal, params } as unknown as CelContext;
}
