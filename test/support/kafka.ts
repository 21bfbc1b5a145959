import { Kafka, logLevel } from 'kafkajs';
import { makeLine } from './generate.js';

export function brokers(): string[] {
  const list = process.env.KAFKA_BROKERS;
  if (!list) throw new Error('KAFKA_BROKERS is not set (test/support/globalSetup.ts sets it)');
  return list.split(',');
}

export function testKafka(): Kafka {
  return new Kafka({ clientId: 'choir-test', brokers: brokers(), logLevel: logLevel.NOTHING });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Produce lines keyed by `keyOf(i)` (token id in real life), in chunks. */
export async function produce(
  topic: string,
  count: number,
  line: (i: number) => string,
  keyOf: (i: number) => string,
): Promise<void> {
  const producer = testKafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const chunk = 5_000;
    for (let start = 0; start < count; start += chunk) {
      const messages = [];
      for (let i = start; i < Math.min(count, start + chunk); i++)
        messages.push({ key: keyOf(i), value: line(i) });
      await producer.send({ topic, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Committed offset per partition for a group, and the topic's end offsets. */
export async function offsets(
  topic: string,
  groupId: string,
): Promise<{ committed: number[]; end: number[] }> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const [group] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    const committed: number[] = [];
    const end: number[] = [];
    for (const p of group!.partitions) committed[p.partition] = Math.max(0, Number(p.offset));
    for (const p of ends) end[p.partition] = Number(p.high);
    return { committed, end };
  } finally {
    await admin.disconnect();
  }
}

/** A fresh 6-partition topic holding `total` generated event lines (every `badEvery`-th malformed), keyed by token. */
export async function fillTopic(topic: string, total: number, badEvery = 0): Promise<void> {
  await createTopic(topic, 6);
  await produce(
    topic,
    total,
    (i) => makeLine(i, badEvery).line,
    (i) => `tok-${i % 1000}`,
  );
}
