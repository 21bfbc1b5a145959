import { Kafka, logLevel } from 'kafkajs';
import { makeEvent } from '../test/support/generate.js';
import { BROKERS } from './benchConfig.js';
import { log, type Rate, rate } from './measure.js';

export const PARTITIONS = 6;
/** ~400-byte events: 10,000 per send keeps each partition's record batch under the broker's 1 MiB limit. */
const SEND_CHUNK = 10_000;

/** The payload of event i, exactly as produced: the raw-insert reference decodes the same bytes. */
export const eventLine = (i: number): string => JSON.stringify(makeEvent(i));

/** A kafkajs client of the bench's broker, warnings and errors logged. */
export function benchKafka(clientId: string): Kafka {
  return new Kafka({ clientId, brokers: BROKERS, logLevel: logLevel.WARN });
}

const admin = () => benchKafka('choir-bench-admin').admin();

/** A fresh topic of PARTITIONS partitions, its leaders elected. */
export async function createTopic(topic: string): Promise<void> {
  const a = admin();
  await a.connect();
  try {
    await a.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  } finally {
    await a.disconnect();
  }
}

/** A fresh topic holding events 0..n-1 keyed by token id; acks=-1 (all in-sync replicas), no compression. */
export async function createAndFill(
  topic: string,
  n: number,
): Promise<Rate & { acks: -1; compression: 'none' }> {
  await createTopic(topic);
  const producer = benchKafka('choir-bench-producer').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  try {
    for (let from = 0; from < n; from += SEND_CHUNK) {
      const messages = [];
      for (let i = from; i < Math.min(n, from + SEND_CHUNK); i++) {
        const e = makeEvent(i);
        messages.push({ key: e.token!.id, value: JSON.stringify(e) });
      }
      await producer.send({ topic, acks: -1, messages });
      if ((from / SEND_CHUNK) % 20 === 0) log(`produced ${from + messages.length}/${n}`);
    }
  } finally {
    await producer.disconnect();
  }
  return { ...rate(n, performance.now() - started), acks: -1, compression: 'none' };
}

export async function deleteTopic(topic: string): Promise<void> {
  const a = admin();
  await a.connect();
  try {
    await a.deleteTopics({ topics: [topic] });
  } finally {
    await a.disconnect();
  }
}
