import { describe, expect, it } from 'vitest';
import { issued, used } from '../../src/detect/eventBuilders.js';
import { expandFixtureEvents } from '../../src/detect/fixtureEvent.js';
import { startDetection } from '../../src/detect/startDetection.js';
import { createBatcher, createDecoders, openStore } from '../../src/index.js';
import { toRows } from '../../src/ingest/toRows.js';
import { createAlertStore } from '../../src/store/alertStore.js';
import type { EventRow, Store } from '../../src/store/store.js';
import { testConfig, testLogger } from '../support/store.js';

const START = Date.UTC(2026, 4, 4);

describe('a late event stored after the last detection checkpoint was saved', () => {
  it('raises its alert after a restart, though it is behind the checkpoint in event time', async () => {
    const config = testConfig({ detect: { allowed_lateness_ms: 0 } });
    const logger = testLogger();
    const store = await openStore(config, logger);
    const rowsOf = (events: ReturnType<typeof expandFixtureEvents>): EventRow[] =>
      toRows(
        events.map((e, i) => ({ text: e.raw, origin: { source: 'test', partition: 0, offset: i } })),
        createDecoders(config)('choir')!,
        Date.now(),
      ).events;
    try {
      // A first run stores and detects an hour of in-scope use; its checkpoint is the last event.
      const first = await startDetection({ config, store, logger, rebuild: true, watch: false });
      const batcher = createBatcher(config, store, logger, first);
      const hour = Array.from({ length: 60 }, (_, m) => used(`${m + 1}m`, 'tok-ci', {}, { id: `u${m}` }));
      await batcher.write(rowsOf(expandFixtureEvents([issued('tok-ci'), ...hour], START)));
      await batcher.close();
      await first.stop();
      const alerts = createAlertStore(store, {
        chain: { chainId: config.storage.writer_id, key: '', logger },
      });
      const saved = await alerts.checkpoint();
      expect(saved?.id).toBe('u59');
      expect(saved?.storedSeq).toBeGreaterThan(0);

      // Then an event half an hour late is stored, and the process dies before detection runs.
      const late = expandFixtureEvents(
        [used('30m30s', 'tok-ci', { scope: 'admin:write' }, { id: 'late' })],
        START,
      );
      await store.insertEvents(rowsOf(late), 'late-event');
      expect(await outOfScope(store)).toEqual([]);

      const second = await startDetection({ config, store, logger, rebuild: true, watch: false });
      await second.stop();
      expect(await outOfScope(store)).toEqual([['late']]);
    } finally {
      await store.close();
    }
  }, 60_000);
});

async function outOfScope(store: Store): Promise<string[][]> {
  const alerts = await createAlertStore(store).list();
  return alerts.filter((a) => a.kind === 'out_of_scope').map((a) => a.evidence);
}
