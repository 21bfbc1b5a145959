import { createHash } from 'node:crypto';
import { errorMessage, isRetriable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DeadLetter, EventRow, Store } from '../store/store.js';

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
  onStored?: (events: EventRow[]) => void;
}

interface Waiter {
  events: EventRow[];
  deadLetters: DeadLetter[];
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
  private flushing: Promise<void> = Promise.resolve();
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

  write(events: EventRow[], deadLetters: DeadLetter[] = []): Promise<Receipt> {
    if (this.closed) return Promise.reject(new Error('batcher is closed'));
    return new Promise((resolve, reject) => {
      this.waiters.push({ events, deadLetters, resolve, reject });
      const n = events.length + deadLetters.length;
      this.buffered += n;
      this.unstored += n;
      if (this.buffered >= this.opts.batchRows) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.batchMs);
    });
  }

  /** Write what is buffered now; resolves when it and every earlier batch are stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.waiters;
    this.waiters = [];
    this.buffered = 0;
    if (batch.length > 0) {
      const n = batch.reduce((sum, w) => sum + w.events.length + w.deadLetters.length, 0);
      // Encode now, while an earlier insert may still run in ClickHouse, rather than after it.
      this.opts.store.prepareEvents?.(batch.flatMap((w) => w.events));
      this.flushing = this.flushing
        .then(() => this.writeBatch(batch))
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

  private async writeBatch(batch: Waiter[]): Promise<void> {
    // Ids an earlier attempt inserted: a landed insert whose acknowledgement was lost is still ours.
    const tried = new Set<string>();
    let inserted: EventRow[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        const stored = await this.store(batch, tried);
        const { seenEvents, seenDead } = stored;
        // Ids seen so far in this batch count as duplicates for later writers (and later rows) too.
        const claimed = new Set(seenEvents);
        const claimedDead = new Set(seenDead);
        for (const w of batch) w.resolve(receipt(w, claimed, claimedDead));
        inserted = stored.inserted;
        break;
      } catch (err) {
        if (!isRetriable(err)) {
          this.log.error({ err: errorMessage(err) }, 'batch rejected by storage; not retrying');
          for (const w of batch) w.reject(err);
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
    if (inserted.length > 0) this.opts.onStored?.(inserted);
  }

  /**
   * One attempt. Rows already in the log are filtered out first, by id: that is what makes a
   * redelivered Kafka batch, a retried insert whose acknowledgement was lost, or a second run
   * over the same file store nothing twice. The insert token guards the same insert retried by ClickHouse.
   */
  private async store(
    batch: Waiter[],
    tried: Set<string>,
  ): Promise<{ seenEvents: Set<string>; seenDead: Set<string>; inserted: EventRow[] }> {
    const { store } = this.opts;
    const events = uniqueById(batch.flatMap((w) => w.events));
    const dead = uniqueById(batch.flatMap((w) => w.deadLetters));
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const e of events) {
      if (e.time < from) from = e.time;
      if (e.time > to) to = e.time;
    }
    const started = performance.now();
    const seenEvents = await store.storedEventIds(
      events.map((e) => e.id),
      from,
      to,
    );
    const seenDead = await store.storedDeadLetterIds(dead.map((d) => d.id));
    const checked = performance.now();
    const newDead = dead.filter((d) => !seenDead.has(d.id));
    const newEvents = events.filter((e) => !seenEvents.has(e.id));
    await store.insertDeadLetters(newDead, dedupToken(newDead));
    for (const e of newEvents) tried.add(e.id);
    await store.insertEvents(newEvents, dedupToken(newEvents));
    this.log.debug(
      {
        rows: newEvents.length,
        dead_letters: newDead.length,
        duplicates: events.length - newEvents.length,
        dedup_ms: Math.round(checked - started),
        insert_ms: Math.round(performance.now() - checked),
      },
      'batch stored',
    );
    return { seenEvents, seenDead, inserted: events.filter((e) => tried.has(e.id)) };
  }
}

function uniqueById<T extends { id: string }>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.id) && seen.add(r.id));
}

function dedupToken(rows: { id: string }[]): string {
  const h = createHash('sha256');
  for (const r of rows) h.update(r.id).update('\n');
  return h.digest('hex');
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
