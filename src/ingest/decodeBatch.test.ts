import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/support/generate.js';
import { decodersFor } from '../events/decoders.js';
import { EVENTS_TABLE } from '../store/chainedTables.js';
import { adoptReply, decodeRequest, packRequest } from './decodeBatch.js';
import { toRows } from './toRows.js';

const decoderFor = decodersFor('decode-batch-test-key');
const texts = [
  JSON.stringify(makeEvent(1)),
  '{not json',
  '',
  JSON.stringify({ ...makeEvent(2), request: { ...makeEvent(2).request, user_agent: 'tab\\there ✓' } }),
];

describe('decode batch (what a decode worker does)', () => {
  it('gives the rows toRows gives, each with the encoding and digest the store would compute', () => {
    const batch = {
      source: 'kafka:t',
      partition: 3,
      offsets: [10, 11, 12, 13],
      values: texts.map((t, i) => (i === 2 ? null : Buffer.from(t))),
    };
    const { request } = packRequest('choir', batch, 1_700_000_000_000);
    // Through the structured clone a worker's reply takes.
    const reply = structuredClone(decodeRequest(request, decoderFor).reply);
    const rows = adoptReply(reply);

    const records = texts.map((text, i) => ({
      text,
      origin: { source: 'kafka:t', partition: 3, offset: 10 + i },
    }));
    const expected = toRows(records, decoderFor('choir')!, 1_700_000_000_000);
    expect(rows).toEqual(expected);
    expect(rows.events).toHaveLength(2);
    expect(rows.deadLetters).toHaveLength(2);

    for (const [i, row] of rows.events.entries()) {
      const fresh = expected.events[i]!;
      // The worker's bytes are used, not encoded again.
      expect(EVENTS_TABLE.form.bytes(row).buffer).toBe(reply.lines.buffer);
      expect(EVENTS_TABLE.form.bytes(row).equals(EVENTS_TABLE.form.bytes(fresh))).toBe(true);
      expect(EVENTS_TABLE.form.digest(row)).toBe(EVENTS_TABLE.form.digest(fresh));
    }
  });

  it('refuses a format it has no decoder for, naming it', () => {
    const { request } = packRequest('nope', { source: 'x', partition: 0, offsets: [1], values: [null] }, 0);
    expect(() => decodeRequest(request, decoderFor)).toThrow('no decoder for format "nope"');
  });
});
