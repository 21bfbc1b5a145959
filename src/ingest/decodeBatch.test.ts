import { describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/support/generate.js';
import { rowFields } from '../../test/support/rowFields.js';
import { decodersFor } from '../events/decoders.js';
import { EVENTS_TABLE } from '../store/chainedTables.js';
import { adoptReply, batchRecords, decodeRequest, packRequest } from './decodeBatch.js';
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
    expect(rowFields(rows)).toEqual(rowFields(expected));
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

  it('decodes record bytes as Buffer#toString does: a BOM kept, invalid UTF-8 replaced', () => {
    const values = [
      Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
      Buffer.from([0xff, 0xfe, 0x41]),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('héllo 😀'),
      Buffer.from([0xed, 0xa0, 0x80]),
    ];
    const records = batchRecords({ source: 's', partition: 0, offsets: [1, 2, 3, 4, 5], values });
    expect(records.map((r) => r.text)).toEqual(values.map((v) => v.toString('utf8')));
    expect(records[0]!.text.charCodeAt(0)).toBe(0xfeff);
  });
});
