import type { Logger } from '../logger.js';
import type { Batcher } from './batcher.js';
import type { RecordBatch } from './decodeBatch.js';
import type { KafkaConsumerPort } from './kafkaClient.js';
import { PartitionAlignment } from './partitionAlignment.js';
import type { Rows } from './toRows.js';

export interface KafkaSourceStats {
  batches: number;
  stored: number;
  duplicates: number;
  deadLettered: number;
  ignored: number;
}

/**
 * Kafka topics ▸ decode ▸ batcher. Each batch hands the client a `durable` promise that resolves
 * only when its rows are stored, so nothing is committed early; while storage fails, pending rows
 * reach the limit and the handler waits, which pauses consumption instead of skipping past it.
 */
export function startKafkaSource(opts: {
  consumer: KafkaConsumerPort;
  /** Decode one batch of a topic (decodePool.ts: in a worker, in the topic's format). */
  decode: (topic: string, batch: RecordBatch) => Promise<Rows>;
  batcher: Batcher;
  logger: Logger;
  /** Rows accepted but not yet stored above which a batch waits for its own storage. */
  maxPendingRows: number;
  /** See PartitionAlignment: 0 never pauses a partition. */
  maxPartitionSkewMs: number;
}): { stats: KafkaSourceStats; started: Promise<void>; stop(): Promise<void> } {
  const log = opts.logger.child({ module: 'kafka-source' });
  const { maxPendingRows } = opts;
  const stats: KafkaSourceStats = { batches: 0, stored: 0, duplicates: 0, deadLettered: 0, ignored: 0 };

  const alignment =
    opts.maxPartitionSkewMs > 0
      ? new PartitionAlignment({
          client: opts.consumer,
          maxSkewMs: opts.maxPartitionSkewMs,
          idleMs: SILENT_PARTITION_MS,
          logger: log,
        })
      : null;
  const started = opts.consumer.run(async (batch, ctl) => {
    const rows = await opts.decode(batch.topic, {
      source: `kafka:${batch.topic}`,
      partition: batch.partition,
      offsets: batch.messages.map((m) => Number(m.offset)),
      values: batch.messages.map((m) => m.value),
    });
    for (const r of rows.ignored) log.debug({ ...r.origin, reason: r.reason }, 'record ignored');
    stats.ignored += rows.ignored.length;
    // Detection and alignment keep partitions in step by event time; one at its end holds nothing back.
    const last = batch.messages.at(-1)?.offset;
    const caughtUp =
      batch.highWatermark === undefined ||
      (last !== undefined && BigInt(last) + 1n >= BigInt(batch.highWatermark));
    if (alignment) {
      let latest: number | undefined;
      for (const e of rows.events) if (latest === undefined || e.time > latest) latest = e.time;
      alignment.observe(batch.topic, batch.partition, latest, caughtUp);
    }
    const progress = {
      source: `kafka:${batch.topic}`,
      partition: batch.partition,
      caughtUp,
      assigned: batch.assigned,
    };
    const durable = opts.batcher.write(rows.events, rows.deadLetters, progress).then((receipt) => {
      stats.batches++;
      stats.stored += receipt.stored;
      stats.duplicates += receipt.duplicates;
      stats.deadLettered += receipt.deadLettered;
    });
    // Back-pressure: while storage lags (or is down) this batch waits here, so fetching pauses
    // instead of piling rows up in memory. Heartbeats keep the partitions assigned meanwhile.
    if (opts.batcher.pendingRows > maxPendingRows) {
      const beat = setInterval(() => ctl.heartbeat().catch(() => {}), 2_000);
      try {
        await durable;
      } finally {
        clearInterval(beat);
      }
    }
    return { durable };
  });
  started.catch((err) => log.error({ err: (err as Error).message }, 'kafka source stopped'));

  return {
    stats,
    started,
    stop: () => {
      alignment?.stop();
      return opts.consumer.stop();
    },
  };
}

/** A partition behind its end that sends nothing for this long no longer holds the others back. */
const SILENT_PARTITION_MS = 5_000;
