import type { Alert } from '../../src/detect/index.js';

/** What must be identical between live detection and a replay of the same events (times as epoch ms). */
export function alertEssentials(a: Alert | Record<string, unknown>) {
  return {
    id: a.id,
    kind: a.kind,
    rule: a.rule,
    token_id: a.token_id,
    count: a.count,
    first_seen: new Date(a.first_seen as number | string).getTime(),
    last_seen: new Date(a.last_seen as number | string).getTime(),
    evidence: a.evidence,
  };
}
