import type { Logger } from 'pino';
import type { PendingTimes, SourceProgress } from '../ingest/batcher.js';

/** What the buffer orders by: event time, then id (unique), so ties break the same way everywhere. */
export interface Timed {
  time: number;
  id: string;
}

export function byTimeThenId(a: Timed, b: Timed): number {
  return a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export type { SourceProgress };

/** The key `sourceOf` gives a source's events. */
export function sourceKey(source: string, partition: number): string {
  return `${source}#${partition}`;
}

export interface ReorderBufferOptions<T> {
  /** Within one source, how late (event time) an event may arrive and still be in order. */
  lateness: number;
  /** The source an event came from; undefined when it is not a tracked source. */
  sourceOf?: (ev: T) => string | undefined;
  /**
   * Wall-clock time after which a silent source stops holding the watermark back (a partition
   * reassigned, a stalled producer), and after which, when nothing arrived at all, everything held
   * is released. Default 10 s.
   */
  idleMs?: number;
  /** Events held at most; beyond it the oldest are released and later ones behind them count as late. */
  maxHeld?: number;
  /**
   * After the first tracked source appears, nothing is released for this long (wall clock): the
   * other partitions' first batches, stored a flush or two later, must be known before the
   * watermark moves. Default 3 s; over as soon as as many sources have reported as the consumer
   * was assigned partitions (SourceProgress.assigned).
   */
  startupMs?: number;
  now?: () => number;
  logger?: Logger;
}

interface Source {
  /** Latest event time seen from it. */
  max: number;
  /** Wall clock of its latest batch. */
  seen: number;
  caughtUp: boolean;
}

/**
 * Puts events from several partitions and sources back into event-time order. Each tracked source
 * (a Kafka partition) has its own latest event time; the watermark is the earliest of those of
 * the sources that may still send older events, minus the allowed lateness within a source. A
 * source stops holding it back once it is caught up (its batch reached the end of the partition)
 * or silent for `idleMs`; without any such source it is the latest event time seen minus the
 * lateness. Events are held until the watermark passes them and released sorted by (time, id), so
 * a consumer catching up on partitions read in chunks, far apart in event time, still feeds the
 * engine the one global order a replay of the same log produces. An event behind the watermark is
 * released at once (counted in `late`), never dropped; so are the oldest held events when more
 * than `maxHeld` are held (logged).
 */
export class ReorderBuffer<T extends Timed> {
  /**
   * Held events: one sorted run per push, in arrival order. Merged only as they are released, so a
   * push costs its own sort however much is held (a consumer catching up may hold a lot).
   */
  private runs: { events: T[]; from: number }[] = [];
  private count = 0;
  private maxTime = Number.NEGATIVE_INFINITY;
  /** The watermark so far: it never goes back. */
  private floor = Number.NEGATIVE_INFINITY;
  /** Earliest event time of what is accepted upstream and not pushed yet, as last told (see push). */
  private pendingMin = Number.POSITIVE_INFINITY;
  private readonly sources = new Map<string, Source>();
  private lastPush = Number.NEGATIVE_INFINITY;
  /** When the first tracked source appeared. */
  private firstSource = Number.NaN;
  /** Sources the caller has (its latest SourceProgress.assigned); 0 when it never said. */
  private expected = 0;
  private lateCount = 0;
  private peakCount = 0;
  private overCap = false;
  private readonly lateness: number;
  private readonly idleMs: number;
  private readonly maxHeld: number;
  private readonly now: () => number;

  private readonly options: ReorderBufferOptions<T>;

  constructor(options: number | ReorderBufferOptions<T>) {
    const o = typeof options === 'number' ? { lateness: options } : options;
    this.options = o;
    this.lateness = o.lateness;
    this.idleMs = o.idleMs ?? 10_000;
    this.maxHeld = o.maxHeld ?? 2_000_000;
    this.now = o.now ?? Date.now;
  }

  /** Events before it have been released (see the class). */
  get watermark(): number {
    return this.floor;
  }

  get size(): number {
    return this.count;
  }

  /** Events that arrived behind the watermark. */
  get late(): number {
    return this.lateCount;
  }

  /** The most events held at once so far. */
  get peak(): number {
    return this.peakCount;
  }

  /** Latest event time seen (rebuilt history counts: the watermark never goes back). */
  advanceTo(time: number): void {
    if (time > this.maxTime) this.maxTime = time;
    this.floor = Math.max(this.floor, this.maxTime - this.lateness);
  }

  /**
   * Add events, with the progress of their sources and, when the caller knows it, the times of
   * what it has accepted and will push later (`pending`, see StoredBatch): the latest of those
   * counts as seen, so the lateness runs from it, and the watermark stays at or before the
   * earliest, so none of them will arrive late. Returns what the watermark now passed, in order.
   */
  push(events: readonly T[], progress: readonly SourceProgress[] = [], pending?: PendingTimes): T[] {
    const now = this.now();
    this.lastPush = now;
    if (pending !== undefined) this.learnPending(pending);
    for (const p of progress) {
      if (p.assigned !== undefined) this.expected = p.assigned;
      const key = sourceKey(p.source, p.partition);
      const s = this.sources.get(key);
      if (Number.isNaN(this.firstSource)) this.firstSource = now;
      if (s === undefined)
        this.sources.set(key, { max: Number.NEGATIVE_INFINITY, seen: now, caughtUp: p.caughtUp });
      else {
        s.seen = now;
        s.caughtUp = p.caughtUp;
      }
    }
    if (events.length > 0) {
      const incoming = [...events].sort(byTimeThenId);
      const sourceOf = this.options.sourceOf;
      for (const ev of incoming) {
        if (ev.time > this.maxTime) this.maxTime = ev.time;
        if (ev.time < this.floor) this.lateCount++;
        const key = sourceOf?.(ev);
        const s = key === undefined ? undefined : this.sources.get(key);
        if (s !== undefined && ev.time > s.max) s.max = ev.time;
      }
      this.runs.push({ events: incoming, from: 0 });
      this.count += incoming.length;
      if (this.count > this.peakCount) this.peakCount = this.count;
    }
    return this.release(now);
  }

  /** What the caller accepted meanwhile (see push): returns what the watermark now passed, in order. */
  accepted(pending: PendingTimes): T[] {
    this.learnPending(pending);
    return this.release();
  }

  private learnPending(pending: PendingTimes): void {
    if (pending.maxTime > this.maxTime) this.maxTime = pending.maxTime;
    this.pendingMin = pending.minTime;
  }

  /**
   * What the passing of wall-clock time released: sources gone silent, or no input at all for
   * `idleMs` (then everything held), or — every partition at its end — for a second (or twice the
   * lateness): a live stream paused, and whatever comes next is newer than what is held. Call it
   * now and then while events are held.
   */
  release(now = this.now()): T[] {
    const quiet = now - this.lastPush;
    if (
      this.count > 0 &&
      (quiet >= this.idleMs || (quiet >= Math.max(1_000, 2 * this.lateness) && this.allCaughtUp()))
    ) {
      for (const run of this.runs) this.floor = Math.max(this.floor, (run.events.at(-1) as T).time + 1);
      return this.drain();
    }
    // Starting: partitions not heard of yet may hold older events than those heard of.
    const allHeard = this.expected > 0 && this.sources.size >= this.expected;
    if (now - this.firstSource < (this.options.startupMs ?? 3_000) && !allHeard) return [];
    let min = Number.POSITIVE_INFINITY;
    for (const [key, s] of this.sources) {
      const silent = now - s.seen;
      if (silent >= this.idleMs && !s.caughtUp && s.max > Number.NEGATIVE_INFINITY) {
        this.options.logger?.warn(
          { source: key, silent_ms: silent },
          'source behind its end silent: no longer holding detection back (reassigned or stalled?)',
        );
        this.sources.delete(key);
        continue;
      }
      // A source that has not sent an event yet holds nothing back: it has no place in time.
      if (!s.caughtUp && s.max > Number.NEGATIVE_INFINITY && s.max < min) min = s.max;
    }
    this.floor = Math.max(this.floor, Math.min(Math.min(min, this.maxTime) - this.lateness, this.pendingMin));
    if (this.count === 0) return [];
    if (this.count > this.maxHeld) {
      // Memory is bounded: the oldest go now (the runs that came first, whole); what later arrives
      // behind them counts as late.
      for (const run of this.runs) {
        if (this.count - this.below(this.floor) <= this.maxHeld) break;
        this.floor = Math.max(this.floor, (run.events.at(-1) as T).time + 1);
      }
      if (!this.overCap)
        this.options.logger?.warn(
          { held: this.count, max_held: this.maxHeld },
          'reorder buffer full: releasing its oldest events before slower sources caught up; events behind them will count as late',
        );
      this.overCap = true;
    } else if (this.count < this.maxHeld * 0.9) {
      this.overCap = false;
    }
    // Strictly before the watermark: an event at the watermark itself may still arrive in time.
    return this.take(this.floor);
  }

  /** End of input (or shutdown): everything held, in order. */
  drain(): T[] {
    return this.take(Number.POSITIVE_INFINITY);
  }

  /** Some partition reports, and each is at its end: nothing older is on its way from Kafka. */
  private allCaughtUp(): boolean {
    if (this.sources.size === 0) return false;
    for (const s of this.sources.values()) if (!s.caughtUp) return false;
    return true;
  }

  /** Held events before `time`. */
  private below(time: number): number {
    let n = 0;
    for (const run of this.runs) n += lowerBound(run.events, time, run.from) - run.from;
    return n;
  }

  /** Every held event before `time`, in (time, id) order. */
  private take(time: number): T[] {
    let out: T[] = [];
    let parts = 0;
    for (const run of this.runs) {
      const end = lowerBound(run.events, time, run.from);
      if (end === run.from) continue;
      const part = run.from === 0 && end === run.events.length ? run.events : run.events.slice(run.from, end);
      out = parts === 0 ? part : out.concat(part);
      parts++;
      run.from = end;
    }
    if (parts === 0) return [];
    this.runs = this.runs.filter((r) => r.from < r.events.length);
    this.count -= out.length;
    // Runs overlap in time: one sort of what leaves (a batch or so), never of what stays.
    return parts > 1 ? out.sort(byTimeThenId) : out;
  }
}

/** Index of the first event at or after `from` with time >= `time`. */
function lowerBound(list: readonly Timed[], time: number, from = 0): number {
  let lo = from;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as Timed).time < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
