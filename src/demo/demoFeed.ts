import type { TokenEvent } from '../events/contract.js';
import type { Decoder } from '../events/decode.js';
import type { Batcher } from '../ingest/batcher.js';
import { type RawRecord, toRows } from '../ingest/toRows.js';
import type { Logger } from '../logger.js';

const CHUNK = 5_000;
const MAX_IN_FLIGHT = 4;
const TICK_MS = 200;

export interface FeedStats {
  sent: number;
  stored: number;
  deadLettered: number;
}

/**
 * Writes a generated world into a batcher through the same decode path as HTTP and files
 * (JSON text ▸ decoder ▸ toRows), numbering records as `demo` offsets. `history` writes
 * everything up to a time as fast as storage takes it; `live` then follows the wall clock.
 */
export class DemoFeed {
  readonly stats: FeedStats = { sent: 0, stored: 0, deadLettered: 0 };
  private readonly events: Iterator<TokenEvent>;
  private next: IteratorResult<TokenEvent>;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly opts: {
      events: Iterable<TokenEvent>;
      decode: Decoder;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.events = opts.events[Symbol.iterator]();
    this.next = this.events.next();
  }

  /** Write every event up to `until` (epoch ms) into `batcher`; resolves once all are stored. */
  async history(batcher: Batcher, until: number): Promise<void> {
    const cutoff = new Date(until).toISOString();
    while (!this.next.done && this.next.value.time <= cutoff) {
      const chunk: TokenEvent[] = [];
      // ISO times of one format compare as strings: no Date.parse per event.
      while (!this.next.done && this.next.value.time <= cutoff && chunk.length < CHUNK) {
        chunk.push(this.next.value);
        this.next = this.events.next();
      }
      this.send(batcher, chunk);
      if (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
      if (this.failure) throw this.failure;
    }
    await batcher.flush();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  /** From now on, write each event when the wall clock reaches its time. */
  live(batcher: Batcher): void {
    const now = this.opts.now ?? Date.now;
    const tick = () => {
      if (this.stopped) return;
      const cutoff = new Date(now()).toISOString();
      const chunk: TokenEvent[] = [];
      while (!this.next.done && this.next.value.time <= cutoff && chunk.length < CHUNK) {
        chunk.push(this.next.value);
        this.next = this.events.next();
      }
      // Storage behind: hold the events (their times stay true) rather than pile up writes.
      if (chunk.length > 0) this.send(batcher, chunk);
      this.timer = setTimeout(tick, this.inFlight.size >= MAX_IN_FLIGHT ? TICK_MS * 5 : TICK_MS);
    };
    tick();
  }

  /** Stop feeding; resolves when what was sent is stored. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled(this.inFlight);
  }

  private send(batcher: Batcher, events: TokenEvent[]): void {
    const records: RawRecord[] = events.map((e) => ({
      text: JSON.stringify(e),
      origin: { source: 'demo', partition: 0, offset: ++this.stats.sent },
    }));
    const rows = toRows(records, this.opts.decode, (this.opts.now ?? Date.now)());
    const p: Promise<void> = batcher
      .write(rows.events, rows.deadLetters)
      .then(
        (r) => {
          this.stats.stored += r.stored;
          this.stats.deadLettered += r.deadLettered;
        },
        (err) => {
          this.failure ??= err;
          this.opts.logger.error({ err }, 'demo events could not be stored');
        },
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}
