import { uniqueName } from '../benchConfig.js';
import { log, peakRssMiB, rate, round, steadyRate } from '../measure.js';
import { benchKafka } from '../topic.js';

/**
 * The ceiling kafkajs sets: the whole topic fetched and decoded into message objects, nothing else.
 * Consumer settings copy src/ingest/kafkaClient.ts so that the only difference from Choir is Choir's work.
 */
export async function rawKafkajs(topic: string, n: number) {
  const kafka = benchKafka('choir-bench-raw');
  const consumer = kafka.consumer({
    groupId: uniqueName('bench-raw'),
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    maxWaitTimeInMs: 250,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  });
  // The clock includes connecting and joining the group, as Choir's and the engine's clocks do.
  const started = performance.now();
  let seen = 0;
  let firstMs = Number.NaN;
  let batches = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.connect().then(async () => {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 6,
        eachBatch: async ({ batch }) => {
          if (Number.isNaN(firstMs)) firstMs = performance.now() - started;
          batches++;
          seen += batch.messages.length;
          if (seen >= n) resolve(performance.now() - started);
        },
      });
    });
  });
  const ms = await done;
  log(`raw_kafkajs: ${seen} messages in ${batches} batches`);
  const peak = peakRssMiB();
  await consumer.disconnect();
  return {
    ...rate(n, ms),
    first_message_s: round(firstMs / 1000, 3),
    steady_events_per_s: steadyRate(n, firstMs, ms),
    batches,
    peak_rss_mib: peak,
  };
}
