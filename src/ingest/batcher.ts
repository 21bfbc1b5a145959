import { createHash } from 'node:crypto';
import { errorMessage, isRetriable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DeadLetter, EventRow, Store, TimeRange } from '../store/store.js';

/** What one write did with its rows once they are durable. */
export interface Receipt {
  stored: number;
  /** Already in the log (a redelivery or a re-run): not written again. */
  duplicates: number;
  deadLettered: number;
}

export interface BatcherOptions {
  store: Store;
  logger: Logger;
  batchRows: number;
  batchMs: number;
  maxBackoffMs: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Called once per flush with the events it added to the log (not repeats), after ClickHouse
   * acknowledged them; detection feeds on it. Must not throw.
   */
  onStored?: (events: EventRow[], batch: StoredBatch) => void;
  /**
   * Called after each write with the times of everything accepted and not handed to onStored yet:
   * detection's watermark may move on before those events are stored. Must not throw.
   */
  onAccepted?: (pending: PendingTimes) => void;
}

/** What a flush tells detection besides its events. */
export interface StoredBatch {
  /** The progress its writers reported. */
  progress: readonly SourceProgress[];
  /** The events' place in the writer's chain (Store.insertEvents); undefined when none was inserted. */
  storedSeq?: number;
  /**
   * Event times of what the batcher holds beyond this flush (accepted, not handed over yet): the
   * earliest of them (+Infinity when none), and the latest event time accepted so far. Detection's
   * watermark may move up to the first and by the second, before those events are stored.
   */
  pending?: PendingTimes;
}

export interface PendingTimes {
  minTime: number;
  maxTime: number;
}

/**
 * A source's state as of a write, for detection's event-time order: a Kafka partition, reported
 * by the Kafka source.
 */
export interface SourceProgress {
  /** `kafka:<topic>`, as its events' `ingest_source`. */
  source: string;
  partition: number;
  /** Its batch reached the end of the partition as the broker knew it then. */
  caughtUp: boolean;
  /**
   * How many partitions (of every topic) the consumer was assigned as of the batch: once that many
   * have reported, detection knows where each one is in event time and stops its startup wait.
   */
  assigned?: number;
}

interface Waiter {
  events: EventRow[];
  deadLetters: DeadLetter[];
  progress?: SourceProgress;
  /** Event times of its events; undefined when it wrote none. */
  times?: TimeRange;
  resolve(r: Receipt): void;
  reject(e: unknown): void;
}

/**
 * Collects rows from every source and writes them in batches (by rows or time, whichever first).
 * A write resolves only once ClickHouse has acknowledged the insert holding its rows, so a source
 * may then commit its offset or answer its client. Failing storage is retried with back-off for as
 * long as it takes: the caller's promise just waits, which pauses the source.
 */
export class Batcher {
  private waiters: Waiter[] = [];
  /** Rows written since the last flush started. */
  private buffered = 0;
  /** Rows accepted and not yet stored: buffered, queued behind a flush, or being inserted. */
  private unstored = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Batches stored so far, and the ids of the latest of them (see `store`). */
  private stores = 0;
  private recent: { events: Set<string>; deadLetters: Set<string> }[] = [];
  private flushing: Promise<void> = Promise.resolve();
  /** Batches flushed whose write has not begun. */
  private queued = 0;
  /** Stored batches not yet handed to onStored, oldest first (see `report`). */
  private reports: (() => void)[] = [];
  /** Batches flushed and not yet handed to onStored (or rejected), and the latest event time accepted. */
  private readonly inFlight = new Set<Batch>();
  private acceptedMax = Number.NEGATIVE_INFINITY;
  /** Earliest event time written since the last flush started. */
  private bufferedMin = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: BatcherOptions) {
    this.log = opts.logger.child({ module: 'batcher' });
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Rows accepted but not yet stored: sources use it to push back when storage lags. */
  get pendingRows(): number {
    return this.unstored;
  }

  write(events: EventRow[], deadLetters: DeadLetter[] = [], progress?: SourceProgress): Promise<Receipt> {
    if (this.closed) return Promise.reject(new Error('batcher is closed'));
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const e of events) {
      if (e.time < from) from = e.time;
      if (e.time > to) to = e.time;
    }
    const times = events.length > 0 ? { from, to } : undefined;
    if (from < this.bufferedMin) this.bufferedMin = from;
    if (to > this.acceptedMax) this.acceptedMax = to;
    // Encoded (and hashed) write by write, ahead of the insert: a batch's worth at flush time ran
    // ~50 ms at once and held back the next insert that much whenever it came due meanwhile.
    this.opts.store.prepareEvents?.(events);
    const stored = new Promise<Receipt>((resolve, reject) => {
      this.waiters.push({ events, deadLetters, progress, times, resolve, reject });
      const n = events.length + deadLetters.length;
      this.buffered += n;
      this.unstored += n;
      if (this.buffered >= this.opts.batchRows) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.batchMs);
    });
    if (events.length > 0) this.opts.onAccepted?.(this.pending());
    return stored;
  }

  /** Write what is buffered now; resolves when it and every earlier batch are stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiters = this.waiters;
    this.waiters = [];
    this.buffered = 0;
    if (waiters.length > 0) {
      const events = uniqueById(waiters.flatMap((w) => w.events));
      const deadLetters = uniqueById(waiters.flatMap((w) => w.deadLetters));
      const batch: Batch = {
        waiters,
        events: events.rows,
        deadLetters: deadLetters.rows,
        ids: { events: events.ids, deadLetters: deadLetters.ids },
        repeats: events.repeats || deadLetters.repeats,
        minTime: this.bufferedMin,
      };
      this.bufferedMin = Number.POSITIVE_INFINITY;
      this.inFlight.add(batch);
      const n = waiters.reduce((sum, w) => sum + w.events.length + w.deadLetters.length, 0);
      // Look up which rows are already stored now, while an earlier insert may still run in
      // ClickHouse, rather than after it (the rows were encoded as they were written).
      const lookup = this.lookUp(batch);
      this.queued++;
      this.flushing = this.flushing
        .then(() => {
          this.queued--;
          return this.writeBatch(batch, lookup);
        })
        .finally(() => {
          this.unstored -= n;
        });
    }
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async writeBatch(batch: Batch, early: Lookup): Promise<void> {
    // Ids an earlier attempt inserted: a landed insert whose acknowledgement was lost is still ours.
    const tried = new Set<string>();
    let inserted: EventRow[] = [];
    let seq: number | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        // A retry looks again: the failed attempt may have stored some rows after all.
        const stored = await this.store(batch, attempt === 1 ? early : this.lookUp(batch), tried);
        const { seenEvents, seenDead } = stored;
        // Ids seen so far in this batch count as duplicates for later writers (and later rows) too.
        if (seenEvents.size === 0 && seenDead.size === 0 && !batch.repeats) {
          // Nothing was there before and nothing came twice: every row counts as stored.
          for (const w of batch.waiters)
            w.resolve({ stored: w.events.length, duplicates: 0, deadLettered: w.deadLetters.length });
        } else {
          const claimed = new Set(seenEvents);
          const claimedDead = new Set(seenDead);
          for (const w of batch.waiters) w.resolve(receipt(w, claimed, claimedDead));
        }
        inserted = stored.inserted;
        seq = stored.seq;
        break;
      } catch (err) {
        if (!isRetriable(err)) {
          this.log.error({ err: errorMessage(err) }, 'batch rejected by storage; not retrying');
          this.inFlight.delete(batch);
          for (const w of batch.waiters) w.reject(err);
          return;
        }
        const delay = Math.min(this.opts.maxBackoffMs, 100 * 2 ** Math.min(attempt, 16));
        this.log.warn(
          { err: errorMessage(err), attempt, retry_in_ms: delay },
          'storage failed; retrying batch',
        );
        await this.sleep(delay);
      }
    }
    this.inFlight.delete(batch);
    const progress = batch.waiters.flatMap((w) => (w.progress ? [w.progress] : []));
    if (inserted.length > 0 || progress.length > 0) {
      const stored: StoredBatch = { progress, storedSeq: seq, pending: this.pending() };
      this.report(() => this.opts.onStored?.(inserted, stored));
    }
  }

  /**
   * Hand a stored batch to onStored, in the order batches were stored. With a batch queued behind
   * it, only once that batch's insert has started: ClickHouse then stores the next batch while
   * detection reads this one, instead of waiting for it.
   */
  private report(onStored: () => void): void {
    this.reports.push(onStored);
    if (this.queued > 0) setImmediate(() => this.drainReports());
    else this.drainReports();
  }

  private drainReports(): void {
    for (let r = this.reports.shift(); r; r = this.reports.shift()) r();
  }

  /** See StoredBatch.pending. */
  private pending(): PendingTimes {
    let minTime = this.bufferedMin;
    for (const b of this.inFlight) if (b.minTime < minTime) minTime = b.minTime;
    return { minTime, maxTime: this.acceptedMax };
  }

  /**
   * Which of the batch's rows the log already holds, by id: what makes a redelivered Kafka batch,
   * a retried insert whose acknowledgement was lost, or a second run over the same file store
   * nothing twice. Started before the inserts ahead of it finish: `store` adds what they stored.
   */
  private lookUp(batch: Batch): Lookup {
    const { store } = this.opts;
    const found = Promise.all([
      store.storedEventIds(
        batch.events.map((e) => e.id),
        timeRanges(batch.waiters.flatMap((w) => (w.times ? [w.times] : []))),
      ),
      store.storedDeadLetterIds(batch.deadLetters.map((d) => d.id)),
    ]);
    // Its failure is the attempt's, reported when the attempt awaits it.
    found.catch(() => {});
    return { after: this.stores, startedAt: performance.now(), found };
  }

  /** One attempt: insert the rows the log does not hold yet. The insert token guards the same insert retried by ClickHouse. */
  private async store(
    batch: Batch,
    lookup: Lookup,
    tried: Set<string>,
  ): Promise<{ seenEvents: Set<string>; seenDead: Set<string>; inserted: EventRow[]; seq?: number }> {
    const { store } = this.opts;
    const { events, deadLetters: dead } = batch;
    let [seenEvents, seenDead] = await lookup.found;
    const missed = this.stores - lookup.after;
    if (missed > this.recent.length) {
      // Begun too long ago to complete from memory: look again.
      [seenEvents, seenDead] = await this.lookUp(batch).found;
    } else {
      // Batches stored since the look-up began, which it may not have seen.
      for (const r of this.recent.slice(this.recent.length - missed)) {
        for (const e of events) if (r.events.has(e.id)) seenEvents.add(e.id);
        for (const d of dead) if (r.deadLetters.has(d.id)) seenDead.add(d.id);
      }
    }
    const checked = performance.now();
    const newDead = dead.filter((d) => !seenDead.has(d.id));
    const newEvents = events.filter((e) => !seenEvents.has(e.id));
    await store.insertDeadLetters(newDead, dedupToken(newDead));
    let seq: number | undefined;
    try {
      seq = await store.insertEvents(newEvents, dedupToken(newEvents));
    } catch (err) {
      // The insert may have landed anyway: then these rows are this batch's, found by the next look-up.
      for (const e of newEvents) tried.add(e.id);
      throw err;
    }
    // Every row of the batch is in the log now.
    this.stores++;
    this.recent.push(batch.ids);
    if (this.recent.length > RECENT_BATCHES) this.recent.shift();
    this.log.debug(
      {
        rows: newEvents.length,
        dead_letters: newDead.length,
        duplicates: events.length - newEvents.length,
        dedup_ms: Math.round(checked - lookup.startedAt),
        insert_ms: Math.round(performance.now() - checked),
      },
      'batch stored',
    );
    const inserted =
      tried.size === 0 ? newEvents : events.filter((e) => !seenEvents.has(e.id) || tried.has(e.id));
    return { seenEvents, seenDead, inserted, seq };
  }
}

/** A batch as flushed: its writers, and their rows with repeats inside the batch dropped. */
interface Batch {
  waiters: Waiter[];
  events: EventRow[];
  deadLetters: DeadLetter[];
  ids: { events: Set<string>; deadLetters: Set<string> };
  /** Whether a row came more than once within the batch. */
  repeats: boolean;
  /** Earliest event time of its writers' events. */
  minTime: number;
}

/** A look-up of a batch's ids, and how many batches had been stored when it began. */
interface Lookup {
  after: number;
  startedAt: number;
  found: Promise<[Set<string>, Set<string>]>;
}

/**
 * Ids of the last batches stored, for look-ups that began before those were: a few more than can
 * be queued behind an insert (sources push back at about four batches pending).
 */
const RECENT_BATCHES = 8;

/** Time ranges a dedup look-up names at most: each adds a condition to its query. */
const MAX_RANGES = 16;

/**
 * The event-time spans of a batch's writers (a Kafka partition's batch, an HTTP request) as a few
 * ranges. Partitions read in chunks lie far apart in event time, and one range over all of them made
 * a look-up read every stored id between them: ~2.5× the rows in bench/ingest. Overlapping spans
 * are joined; past MAX_RANGES, the closest ones too.
 */
export function timeRanges(writerSpans: readonly TimeRange[]): TimeRange[] {
  const spans = [...writerSpans].sort((a, b) => a.from - b.from);
  const joined: TimeRange[] = [];
  for (const s of spans) {
    const last = joined.at(-1);
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else joined.push({ ...s });
  }
  if (joined.length <= MAX_RANGES) return joined;
  // Close the smallest gaps: the few more rows read cost less than a query of many conditions.
  // Ranges stay apart across the MAX_RANGES - 1 widest gaps (of equal ones, the first).
  const gaps = joined.slice(1).map((r, i) => r.from - joined[i]!.to);
  const widest = [...gaps].sort((a, b) => b - a)[MAX_RANGES - 2]!;
  let ties = MAX_RANGES - 1 - gaps.filter((g) => g > widest).length;
  const out: TimeRange[] = [{ ...joined[0]! }];
  for (let i = 1; i < joined.length; i++) {
    const gap = gaps[i - 1]!;
    if (gap > widest || (gap === widest && ties-- > 0)) out.push({ ...joined[i]! });
    else out.at(-1)!.to = Math.max(out.at(-1)!.to, joined[i]!.to);
  }
  return out;
}

function uniqueById<T extends { id: string }>(all: T[]): { rows: T[]; ids: Set<string>; repeats: boolean } {
  const ids = new Set<string>();
  const rows = all.filter((r) => !ids.has(r.id) && ids.add(r.id));
  return { rows, ids, repeats: rows.length < all.length };
}

function dedupToken(rows: { id: string }[]): string {
  // SHA-256 of every id followed by a newline, hashed in one call.
  let text = '';
  for (const r of rows) text += `${r.id}\n`;
  return createHash('sha256').update(text).digest('hex');
}

/** Count per writer, claiming ids as it goes: a row that appears twice is stored once, its copy is a duplicate. */
function receipt(w: Waiter, claimed: Set<string>, claimedDead: Set<string>): Receipt {
  let stored = 0;
  let duplicates = 0;
  for (const e of w.events) {
    if (claimed.has(e.id)) duplicates++;
    else {
      claimed.add(e.id);
      stored++;
    }
  }
  let deadLettered = 0;
  for (const d of w.deadLetters) {
    if (!claimedDead.has(d.id)) {
      claimedDead.add(d.id);
      deadLettered++;
    }
  }
  return { stored, duplicates, deadLettered };
}
