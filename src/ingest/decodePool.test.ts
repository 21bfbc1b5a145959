import { afterAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/support/generate.js';
import { rowFields } from '../../test/support/rowFields.js';
import { createLogger } from '../logger.js';
import { EVENTS_TABLE } from '../store/chainedTables.js';
import { createDecodePool } from './decodePool.js';

const logger = createLogger('silent');
const now = () => 1_700_000_000_000;
const inline = createDecodePool({ fingerprintKey: 'pool-test-key', workers: 0, logger, now });
const threaded = createDecodePool({ fingerprintKey: 'pool-test-key', workers: 2, logger, now });
afterAll(async () => {
  await Promise.all([inline.close(), threaded.close()]);
});

const batch = (from: number) => ({
  source: 'kafka:pool',
  partition: 1,
  offsets: [from, from + 1, from + 2],
  values: [Buffer.from(JSON.stringify(makeEvent(from))), Buffer.from('{"id":'), null],
});

describe('decode pool', () => {
  it('decodes in worker threads exactly as on the main thread, batches answered to their callers', async () => {
    const batches = Array.from({ length: 6 }, (_, i) => batch(100 * i));
    const [fromWorkers, onMain] = await Promise.all([
      Promise.all(batches.map((b) => threaded.decode('choir', b))),
      Promise.all(batches.map((b) => inline.decode('choir', b))),
    ]);
    expect(fromWorkers.map(rowFields)).toEqual(onMain.map(rowFields));
    for (const [i, rows] of fromWorkers.entries()) {
      expect(rows.events.map((e) => e.id)).toEqual([`evt-${100 * i}`]);
      expect(rows.deadLetters).toHaveLength(2);
      const [worker, main] = [rows.events[0]!, onMain[i]!.events[0]!];
      expect(EVENTS_TABLE.form.digest(worker)).toBe(EVENTS_TABLE.form.digest(main));
    }
  });

  it('fails a batch in a format it does not know, and keeps working', async () => {
    await expect(threaded.decode('nope', batch(1))).rejects.toThrow('no decoder for format "nope"');
    await expect(inline.decode('nope', batch(1))).rejects.toThrow('no decoder for format "nope"');
    expect((await threaded.decode('choir', batch(7))).events).toHaveLength(1);
  });
});
