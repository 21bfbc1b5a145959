import { type Consumer, Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import { ChoirError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * The only module that knows kafkajs. kafkajs is in maintenance upstream: switching to another
 * client means re-implementing these two small interfaces and nothing else.
 */
export interface KafkaMessageBatch {
  topic: string;
  partition: number;
  messages: { offset: string; value: Buffer | null }[];
  /** The partition's end (next offset to be written) when the batch was fetched. */
  highWatermark?: string;
  /** Partitions (of every subscribed topic) assigned to this consumer when the batch was handed over. */
  assigned?: number;
}

export interface BatchControl {
  /** Keep group membership alive while a batch waits for storage. */
  heartbeat(): Promise<void>;
  /** False once the batch's partition was reassigned or the consumer is stopping: do not commit it. */
  isCurrent(): boolean;
}

export interface KafkaConsumerPort {
  /**
   * Deliver batches until stopped. The handler returns once the batch is accepted (fetching goes
   * on) with a `durable` promise; the batch's offset is committed only when that resolves.
   */
  run(
    handler: (batch: KafkaMessageBatch, ctl: BatchControl) => Promise<{ durable: Promise<unknown> }>,
  ): Promise<void>;
  /** Stop fetching, wait for accepted batches to become durable and commit them, then leave the group. */
  stop(): Promise<void>;
  /** Stop fetching a partition until resumed; a batch of it already fetched still arrives. */
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
}

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: string[];
  logger: Logger;
  /** How many partitions' batches are handled at once. */
  concurrency?: number;
}

/** How long a start retries retriable errors (a topic being created, a broker starting). */
const START_RETRY_MS = 30_000;

export function createKafkaConsumer(opts: KafkaOptions): KafkaConsumerPort {
  const log = opts.logger.child({ module: 'kafka' });
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...rest } = entry.log;
      log[entry.level <= KafkaLogLevel.ERROR ? 'error' : 'warn'](
        { ...rest, kafka: entry.namespace },
        message,
      );
    },
  });
  // Modest fetches: the next fetch waits until every partition's batch of this one is decoded and
  // accepted, so a huge fetch means a long decode while ClickHouse idles, then a long insert while
  // decoding idles. Small ones keep both busy at once, and kafkajs copies each response into a
  // buffer of its own, in fresh memory when it is large (see store/bufferPool.ts): 256 KiB a
  // partition rather than kafkajs's 1 MiB stored 1M events ~5% faster (bench/ingest, 6 runs
  // against 4; 2 MiB was ~10% slower) with ~20% fewer page faults. But not tiny: a live
  // stream answered as soon as one message is there made ~300 fetches of ~25 messages a second at
  // 10,000 events/s, each a round of kafkajs overhead; the broker now waits for MIN_FETCH_BYTES or
  // FETCH_WAIT_MS, whichever comes first (at that rate ~15 ms, well inside a batch's wait).
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    maxBytesPerPartition: 256 * 1024,
    maxBytes: 10 * 1024 * 1024,
    minBytes: MIN_FETCH_BYTES,
    maxWaitTimeInMs: FETCH_WAIT_MS,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  });
  let stopping = false;
  let assigned: number | undefined;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    assigned = Object.values(payload.memberAssignment).reduce((n, partitions) => n + partitions.length, 0);
  });
  const commits = offsetCommitter(consumer, log);

  /**
   * A topic that does not exist yet is created by the broker on first request, which still answers
   * that request with a retriable error; a broker may also be starting. Retried with back-off for
   * about START_RETRY_MS, then Choir stops with the reason.
   */
  async function connectAndSubscribe(): Promise<void> {
    const deadline = Date.now() + START_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
        return;
      } catch (err) {
        const retriable = (err as { retriable?: boolean }).retriable === true;
        const delay = Math.min(5_000, 250 * 2 ** attempt);
        if (!retriable || Date.now() + delay > deadline) {
          throw new ChoirError(
            'KAFKA_FAILED',
            `cannot subscribe to ${opts.topics.join(', ')} at ${opts.brokers.join(',')}: ${(err as Error).message}; ` +
              'check kafka.brokers and kafka.topics (KAFKA_BROKERS, KAFKA_TOPICS)',
            { retriable: true, cause: err },
          );
        }
        log.warn({ attempt, retry_in_ms: delay, err: (err as Error).message }, 'kafka not ready; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Pausing only paces reading: if kafkajs refuses (restarting, rebalancing), reading goes on as it was. */
  function flowControl(what: string, act: () => void, topic: string, partition: number): void {
    if (stopping) return;
    try {
      act();
    } catch (err) {
      log.warn({ topic, partition, err: (err as Error).message }, `kafka refused to ${what} a partition`);
    }
  }

  return {
    async run(handler) {
      await connectAndSubscribe();
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: opts.concurrency ?? 6,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          if (batch.messages.length === 0) return;
          const { durable } = await handler(
            {
              topic: batch.topic,
              partition: batch.partition,
              messages: batch.messages,
              highWatermark: batch.highWatermark,
              assigned,
            },
            { heartbeat, isCurrent: () => isRunning() && !isStale() && !stopping },
          );
          if (!isRunning() || isStale()) return;
          // Resolving moves the fetch position only (autoCommit is off): the next fetch overlaps this
          // batch's insert. The commit waits for `durable`, i.e. for ClickHouse's acknowledgement:
          // a crash before it replays the batch, and storage drops the rows it already has.
          resolveOffset(batch.lastOffset());
          commits.after(durable, batch.topic, batch.partition, BigInt(batch.lastOffset()) + 1n);
        },
      });
    },
    pause(topic, partition) {
      flowControl('pause', () => consumer.pause([{ topic, partitions: [partition] }]), topic, partition);
    },
    resume(topic, partition) {
      flowControl('resume', () => consumer.resume([{ topic, partitions: [partition] }]), topic, partition);
    },
    async stop() {
      stopping = true;
      await consumer.stop();
      await commits.drain();
      await consumer.disconnect();
    },
  };
}

/** Fetch answers wait for this many bytes… */
const MIN_FETCH_BYTES = 64 * 1024;
/** …or this long, whichever comes first. */
const FETCH_WAIT_MS = 100;

/**
 * Commits offsets once the batches before them are stored, coalesced: one request carries the
 * latest stored offset of every partition that moved, and one is in flight at a time (a batch per
 * partition per fetch had made a commit each, hundreds a second). Batches become durable in the
 * order they were accepted, so an offset only ever moves forward.
 */
export function offsetCommitter(consumer: Pick<Consumer, 'commitOffsets'>, log: Logger) {
  /** Latest durable offset per partition, not yet sent. */
  const due = new Map<string, { topic: string; partition: number; offset: bigint }>();
  let inFlight: Promise<void> | null = null;
  /** Every batch handed over and not yet durable (failed ones included, which commit nothing). */
  const waiting = new Set<Promise<unknown>>();

  const send = async (): Promise<void> => {
    while (due.size > 0) {
      const batch = [...due.values()];
      due.clear();
      try {
        await consumer.commitOffsets(
          batch.map(({ topic, partition, offset }) => ({ topic, partition, offset: offset.toString() })),
        );
      } catch (err) {
        // Not committed: the partition's next owner re-reads from the last commit; nothing is lost.
        log.warn({ partitions: batch.length, err: (err as Error).message }, 'offsets not committed');
      }
    }
    inFlight = null;
  };

  return {
    after(durable: Promise<unknown>, topic: string, partition: number, offset: bigint): void {
      const done = durable.then(
        () => {
          const key = `${topic}:${partition}`;
          const prev = due.get(key);
          if (!prev || prev.offset < offset) due.set(key, { topic, partition, offset });
          inFlight ??= send();
        },
        () => undefined,
      );
      waiting.add(done);
      void done.finally(() => waiting.delete(done));
    },
    /** Wait for every accepted batch and the commits they made due. */
    async drain(): Promise<void> {
      while (waiting.size > 0) await Promise.all(waiting);
      await inFlight;
    },
  };
}
