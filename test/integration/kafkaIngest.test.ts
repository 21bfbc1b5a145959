import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, serve } from '../../src/index.js';
import { createKafkaConsumer } from '../../src/ingest/kafkaClient.js';
import type { Store } from '../../src/store/store.js';
import { makeEvent, makeLine } from '../support/generate.js';
import {
  brokers,
  createTopic,
  fillTopic,
  offsets,
  produce,
  testKafka,
  uniqueName,
} from '../support/kafka.js';
import { testConfig, testLogger, waitFor } from '../support/store.js';

const TOTAL = 100_000;
const BAD_EVERY = 100; // 1% malformed

describe('Kafka ▸ ClickHouse (real broker, real chDB)', () => {
  const topic = uniqueName('choir-it');
  const groupId = uniqueName('choir-group');
  // Decoded in a worker thread here; kafkaCrash.test.ts decodes on the main thread (the 2-core default).
  const config = testConfig({
    kafka: { brokers: brokers(), topics: [topic], group_id: groupId },
    ingest: { decode_workers: 1 },
  });
  const logger = testLogger();
  let store: Store;

  beforeAll(async () => {
    await fillTopic(topic, TOTAL, BAD_EVERY);
    store = await openStore(config, logger);
  });
  afterAll(async () => {
    await store?.close();
  });

  const counts = async () => {
    const [r] = await store.query<{ events: string; ids: string; dead: string }>(
      `SELECT (SELECT count() FROM ${store.database}.token_events) AS events,
              (SELECT uniqExact(id) FROM ${store.database}.token_events) AS ids,
              (SELECT count() FROM ${store.database}.dead_letters) AS dead`,
    );
    return { events: Number(r!.events), ids: Number(r!.ids), dead: Number(r!.dead) };
  };
  const expected = {
    events: TOTAL - TOTAL / BAD_EVERY,
    ids: TOTAL - TOTAL / BAD_EVERY,
    dead: TOTAL / BAD_EVERY,
  };

  it('stores 100,000 events from 6 partitions exactly once, with 1% malformed as dead letters', async () => {
    const running = await serve(config, logger, { store });
    try {
      await waitFor(
        'all partitions committed',
        () => offsets(topic, groupId),
        (o) => o.committed.join() === o.end.join(),
      );
    } finally {
      await running.stop();
    }
    expect(await counts()).toEqual(expected);
    const reasons = await store.query<{ reason: string; n: string }>(
      `SELECT reason, count() AS n FROM ${store.database}.dead_letters GROUP BY reason ORDER BY reason`,
    );
    expect(reasons.map((r) => Number(r.n))).toEqual([250, 250, 250, 250]);
    expect(reasons.map((r) => r.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^not valid JSON: Expected ',' or '}' after property value/),
        expect.stringMatching(/"time" must be an RFC 3339 time with milliseconds/),
        '"type" must be one of token.issued, token.used, token.revoked, principal.disabled',
        'missing required field "token.kind"; missing required field "token.scopes"',
      ]),
    );
    // The stored row keeps the original payload and its Kafka origin.
    const [row] = await store.query<{ raw: string; ingest_source: string }>(
      `SELECT raw, ingest_source FROM ${store.database}.token_events WHERE id = 'evt-1234'`,
    );
    expect(JSON.parse(row!.raw)).toEqual(makeEvent(1234));
    expect(row!.ingest_source).toBe(`kafka:${topic}`);
  });

  it('leaves every count unchanged when the whole topic is delivered again', async () => {
    const admin = testKafka().admin();
    await admin.connect();
    await admin.resetOffsets({ groupId, topic, earliest: true });
    await admin.disconnect();
    expect((await offsets(topic, groupId)).committed.every((o) => o === 0)).toBe(true);

    const running = await serve(config, logger, { store });
    try {
      await waitFor(
        'redelivery committed',
        () => offsets(topic, groupId),
        (o) => o.committed.join() === o.end.join(),
      );
    } finally {
      await running.stop();
    }
    expect(await counts()).toEqual(expected);
  });

  it('starts on a topic that does not exist yet and stores what is produced to it later', async () => {
    const fresh = uniqueName('choir-new-topic');
    const freshGroup = uniqueName('choir-group');
    const freshConfig = testConfig({
      storage: { database: 'choir_fresh_topic' },
      kafka: { brokers: brokers(), topics: [fresh], group_id: freshGroup },
    });
    const freshStore = await openStore(freshConfig, logger);
    const running = await serve(freshConfig, logger, { store: freshStore });
    try {
      await produce(
        fresh,
        10,
        (i) => makeLine(i, 0).line,
        () => 'k',
      );
      await waitFor(
        'the new topic committed',
        () => offsets(fresh, freshGroup),
        (o) => o.end.length > 0 && o.committed.join() === o.end.join(),
      );
      const [r] = await freshStore.query<{ n: string }>(
        `SELECT count() AS n FROM ${freshStore.database}.token_events`,
      );
      expect(Number(r!.n)).toBe(10);
    } finally {
      await running.stop();
      await freshStore.close();
    }
  });
});

describe('the Kafka client', () => {
  it('tells each batch how many partitions the consumer is assigned (detection stops its startup wait on it)', async () => {
    const topic = uniqueName('choir-assigned');
    await createTopic(topic, 3);
    await produce(
      topic,
      30,
      (i) => JSON.stringify(makeEvent(i)),
      (i) => `key-${i}`,
    );
    const consumer = createKafkaConsumer({
      brokers: brokers(),
      clientId: 'choir-test',
      groupId: uniqueName('choir-assigned-group'),
      topics: [topic],
      logger: testLogger(),
    });
    const assigned: (number | undefined)[] = [];
    let messages = 0;
    await new Promise<void>((resolve) => {
      void consumer.run(async (batch) => {
        assigned.push(batch.assigned);
        messages += batch.messages.length;
        if (messages >= 30) resolve();
        return { durable: Promise.resolve() };
      });
    });
    await consumer.stop();
    expect(new Set(assigned)).toEqual(new Set([3]));
  });

  it('stops fetching a paused partition, the others going on, until it is resumed (partition alignment)', async () => {
    const topic = uniqueName('choir-paused');
    await createTopic(topic, 2);
    const producer = testKafka().producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const send = (partition: number, from: number) =>
      producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 10 }, (_, i) => ({ partition, value: `m${from + i}` })),
      });
    await send(0, 0);
    await send(1, 0);
    const consumer = createKafkaConsumer({
      brokers: brokers(),
      clientId: 'choir-test',
      groupId: uniqueName('choir-paused-group'),
      topics: [topic],
      logger: testLogger(),
    });
    const seen = [0, 0];
    void consumer.run(async (batch) => {
      if (batch.partition === 1 && seen[1] === 0) consumer.pause(topic, 1);
      seen[batch.partition]! += batch.messages.length;
      return { durable: Promise.resolve() };
    });
    try {
      const counts = async () => [...seen];
      await waitFor('the first messages', counts, ([a, b]) => a === 10 && b === 10, 30_000);
      await send(1, 10);
      await send(0, 10);
      await waitFor("partition 0's later messages", counts, ([a]) => a === 20, 30_000);
      // Partition 0's new messages came through while partition 1's, sent before them, did not.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(seen[1]).toBe(10);
      consumer.resume(topic, 1);
      await waitFor("partition 1's later messages", counts, ([, b]) => b === 20, 30_000);
    } finally {
      await consumer.stop();
      await producer.disconnect();
    }
  });
});
