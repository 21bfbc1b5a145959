import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createClickHouseStore } from '../../src/store/clickhouseStore.js';
import { exited, spawnChoir } from '../support/cli.js';
import { brokers, fillTopic, offsets, uniqueName } from '../support/kafka.js';
import { waitFor } from '../support/store.js';

const TOTAL = 100_000;

describe('a consumer killed with SIGKILL mid-stream', () => {
  it('still stores every event exactly once after a restart', async () => {
    const topic = uniqueName('choir-crash');
    const groupId = uniqueName('choir-crash-group');
    const dataDir = join(mkdtempSync(join(tmpdir(), 'choir-crash-')), 'data');
    await fillTopic(topic, TOTAL);
    const env = {
      CHOIR_DATA_DIR: dataDir,
      KAFKA_BROKERS: brokers().join(','),
      KAFKA_TOPICS: topic,
      KAFKA_GROUP_ID: groupId,
      CHOIR_HTTP_PORT: '0',
      CHOIR_LOG_LEVEL: 'warn',
      CHOIR_FINGERPRINT_KEY: 'crash-test',
    };
    const committedSum = async () => (await offsets(topic, groupId)).committed.reduce((a, b) => a + b, 0);

    const first = spawnChoir(['serve'], env);
    await waitFor(
      'a part of the stream committed',
      committedSum,
      (n) => n > TOTAL * 0.2 && n < TOTAL,
      120_000,
    );
    first.kill('SIGKILL');
    await exited(first);
    const atKill = await committedSum();
    expect(atKill).toBeLessThan(TOTAL);

    const second = spawnChoir(['serve'], env);
    let stderr = '';
    second.stderr!.on('data', (c) => {
      stderr += c;
    });
    await waitFor(
      'the rest committed',
      () => offsets(topic, groupId),
      (o) => o.committed.join() === o.end.join(),
      120_000,
    );
    second.kill('SIGTERM');
    expect(await exited(second), stderr).toBe(0);

    // Both processes are gone, so this one may open their data directory.
    const store = createClickHouseStore(
      loadConfig({ overrides: { storage: { data_dir: dataDir } } }).storage,
    );
    try {
      const [r] = await store.query<{ n: string; u: string }>(
        'SELECT count() AS n, uniqExact(id) AS u FROM choir.token_events',
      );
      expect({ rows: Number(r!.n), ids: Number(r!.u) }).toEqual({ rows: TOTAL, ids: TOTAL });
    } finally {
      await store.close();
    }
  });
});
