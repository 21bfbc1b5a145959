import type { Logger } from '../logger.js';

/** What alignment needs of the Kafka client (kafkaClient.ts). */
export interface PausablePartitions {
  pause(topic: string, partition: number): void;
  resume(topic: string, partition: number): void;
}

interface Partition {
  topic: string;
  partition: number;
  /** Latest event time handed over from it. */
  latest: number;
  /** Wall clock of its latest batch (or of its resumption). */
  seen: number;
  /** Its latest batch reached the partition's end. */
  caughtUp: boolean;
  paused: boolean;
}

/**
 * Keeps the partitions of a backlog in step by event time, as Flink's watermark alignment does.
 * Kafka hands each partition the same bytes per fetch, but partitions hold different numbers of
 * events per hour: reading a backlog, some run hours ahead of others in event time. Detection then
 * holds every event ahead of the slowest partition until it catches up (reorderBuffer.ts), and
 * each dedup look-up reads the stored ids of all the time in between: in bench/ingest the buffer
 * held up to ~120,000 events. A partition more than `maxSkewMs` of event time ahead of the slowest
 * one still being read is paused, and resumed once that one is within `maxSkewMs` of it.
 *
 * Only partitions being read count: one at its end (a live stream) or silent for `idleMs` (a
 * stalled broker, a partition reassigned) holds nobody back, so nothing waits on a partition that
 * does not move.
 */
export class PartitionAlignment {
  private readonly parts = new Map<string, Partition>();
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(
    private readonly opts: {
      client: PausablePartitions;
      maxSkewMs: number;
      idleMs: number;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Partitions paused now, as `topic#partition`. */
  get paused(): string[] {
    return [...this.parts].filter(([, p]) => p.paused).map(([key]) => key);
  }

  /**
   * A batch of a partition was handed over: the latest event time in it (undefined when it held
   * no event) and whether it reached the partition's end. Pauses and resumes partitions.
   */
  observe(topic: string, partition: number, latest: number | undefined, caughtUp: boolean): void {
    const key = `${topic}#${partition}`;
    let p = this.parts.get(key);
    if (p === undefined) {
      p = { topic, partition, latest: Number.NEGATIVE_INFINITY, seen: 0, caughtUp, paused: false };
      this.parts.set(key, p);
    }
    if (latest !== undefined && latest > p.latest) p.latest = latest;
    p.seen = this.now();
    p.caughtUp = caughtUp;
    this.check();
  }

  /** Pause the partitions too far ahead, resume those the others caught up with. */
  check(): void {
    const now = this.now();
    let slowest = Number.POSITIVE_INFINITY;
    for (const p of this.parts.values()) {
      // One that has handed over no event yet has no place in time: it holds nobody back either.
      const read = !p.paused && !p.caughtUp && now - p.seen < this.opts.idleMs;
      if (read && p.latest > Number.NEGATIVE_INFINITY && p.latest < slowest) slowest = p.latest;
    }
    const limit = slowest + this.opts.maxSkewMs;
    let anyPaused = false;
    for (const p of this.parts.values()) {
      if (p.paused && p.latest <= limit) {
        p.paused = false;
        // Its next batch is a fetch away: until then it is not silent.
        p.seen = now;
        this.opts.client.resume(p.topic, p.partition);
      } else if (!p.paused && p.latest > limit) {
        p.paused = true;
        this.opts.logger.debug(
          { topic: p.topic, partition: p.partition, ahead_ms: p.latest - slowest },
          'partition ahead in event time: paused',
        );
        this.opts.client.pause(p.topic, p.partition);
      }
      anyPaused ||= p.paused;
    }
    // Nothing may arrive to call check again (the partitions read went silent): look now and then.
    if (anyPaused && this.timer === null) {
      this.timer = setInterval(() => this.check(), Math.max(100, this.opts.idleMs / 4));
      this.timer.unref();
    } else if (!anyPaused && this.timer !== null) this.stop();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
