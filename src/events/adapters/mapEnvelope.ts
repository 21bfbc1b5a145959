import type { TokenEvent } from '../contract.js';
import type { AdapterResult } from './types.js';

/**
 * Map every record of a batch envelope as one result. Any invalid record makes the whole
 * envelope a dead letter (with the record's index and reason) rather than dropping it while
 * keeping its neighbours: nothing is lost silently, and the dead letter can be replayed.
 * Ingest that wants per-record dead letters uses `Adapter.unwrap` instead.
 */
export function mapEnvelope(
  records: unknown[] | undefined,
  map: (record: unknown) => AdapterResult,
  what: string,
): AdapterResult {
  if (!records) return { kind: 'invalid', reason: `${what} must hold an array of records` };
  const events: TokenEvent[] = [];
  for (const [i, record] of records.entries()) {
    const r = map(record);
    if (r.kind === 'invalid') return { kind: 'invalid', reason: `${what} record ${i}: ${r.reason}` };
    if (r.kind === 'events') events.push(...r.events);
  }
  if (events.length === 0) return { kind: 'ignored', reason: `${what} without token records` };
  return { kind: 'events', events };
}
