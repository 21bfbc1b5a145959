import { createHash } from 'node:crypto';
import type { StoredEvent, TokenEvent } from './contract.js';
import { normalise } from './normalise.js';
import { type Fingerprinter, redactSecrets } from './secrets.js';
import type { Validator } from './validate.js';

/** What one input record became. A pipeline step returns this instead of throwing on bad input. */
export type Decoded =
  | { kind: 'events'; events: StoredEvent[] }
  | { kind: 'dead_letter'; reason: string; payload: string }
  | { kind: 'ignored'; reason: string };

/** Maps one parsed record of a foreign audit log to contract-v1 events (see events/adapters). */
export type RecordMapper = (
  record: unknown,
) => { kind: 'events'; events: TokenEvent[] } | { kind: 'ignored' | 'invalid'; reason: string };

export type Decoder = (text: string) => Decoded;

const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * decode ▸ validate ▸ normalise for one record. Secrets are redacted from the text first,
 * so neither the stored payload nor any field derived from it can hold one.
 */
export function createDecoder(opts: {
  validate: Validator;
  fingerprint: Fingerprinter;
  /** null: the input is contract v1 itself. */
  mapper: RecordMapper | null;
}): Decoder {
  const { validate, fingerprint, mapper } = opts;
  return (input) => {
    if (input.length > MAX_RECORD_BYTES) {
      return {
        kind: 'dead_letter',
        reason: `record is ${input.length} bytes, over the 1 MiB limit`,
        payload: input.slice(0, 4096),
      };
    }
    const text = redactSecrets(input, fingerprint);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { kind: 'dead_letter', reason: `not valid JSON: ${(err as Error).message}`, payload: text };
    }
    if (!mapper) {
      const v = validate(value);
      return v.ok
        ? { kind: 'events', events: [normalise(v.event, text, v.time)] }
        : { kind: 'dead_letter', reason: v.reason, payload: text };
    }
    const mapped = mapper(value);
    if (mapped.kind === 'ignored') return { kind: 'ignored', reason: mapped.reason };
    if (mapped.kind !== 'events') return { kind: 'dead_letter', reason: mapped.reason, payload: text };
    const events: StoredEvent[] = [];
    for (const e of mapped.events) {
      const v = validate(e);
      // An adapter that emits an invalid event is our bug; the record is kept as a dead letter to replay after the fix.
      if (!v.ok)
        return { kind: 'dead_letter', reason: `mapped event is not contract v1: ${v.reason}`, payload: text };
      events.push(normalise(v.event, text, v.time));
    }
    return { kind: 'events', events };
  };
}

/** Deterministic dead-letter id: the same bad record from the same place is stored once. */
export function deadLetterId(source: string, partition: number, offset: number, payload: string): string {
  return createHash('sha256')
    .update(`${source}\u0000${partition}\u0000${offset}\u0000${payload}`)
    .digest('hex')
    .slice(0, 32);
}
