/** What the buffer orders by: event time, then id (unique), so ties break the same way everywhere. */
export interface Timed {
  time: number;
  id: string;
}

export function byTimeThenId(a: Timed, b: Timed): number {
  return a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Puts events from several partitions and sources back into event-time order. Events are held
 * until the watermark (latest event time seen minus the allowed lateness) passes them, then
 * released sorted by (time, id). Any event no later than the lateness therefore reaches the
 * engine in the one global order a replay of the same log produces, however the inputs
 * interleaved. An event later than that is released at once (counted in `late`), never dropped.
 */
export class ReorderBuffer<T extends Timed> {
  /** Held events, sorted. */
  private held: T[] = [];
  private maxTime = Number.NEGATIVE_INFINITY;
  private lateCount = 0;

  constructor(private readonly lateness: number) {}

  /** Latest event time seen minus the allowed lateness; events before it have been released. */
  get watermark(): number {
    return this.maxTime - this.lateness;
  }

  get size(): number {
    return this.held.length;
  }

  /** Events that arrived behind the watermark: later than the allowed lateness. */
  get late(): number {
    return this.lateCount;
  }

  /** Latest event time seen (rebuilt history counts: the watermark never goes back). */
  advanceTo(time: number): void {
    if (time > this.maxTime) this.maxTime = time;
  }

  /** Add events; returns the events the watermark has now passed, in (time, id) order. */
  push(events: readonly T[]): T[] {
    if (events.length === 0) return [];
    const incoming = [...events].sort(byTimeThenId);
    const watermark = this.watermark;
    for (const ev of incoming) {
      if (ev.time > this.maxTime) this.maxTime = ev.time;
      if (ev.time < watermark) this.lateCount++;
    }
    this.held = merge(this.held, incoming);
    // Strictly before the watermark: an event at the watermark itself may still arrive in time.
    return this.take(lowerBound(this.held, this.watermark));
  }

  /** End of input (or shutdown): everything held, in order. */
  drain(): T[] {
    return this.take(this.held.length);
  }

  private take(n: number): T[] {
    if (n === 0) return [];
    const out = this.held.slice(0, n);
    this.held = this.held.slice(n);
    return out;
  }
}

/** Two sorted lists into one (linear: the held list is long, a batch is short). */
function merge<T extends Timed>(a: T[], b: T[]): T[] {
  if (a.length === 0) return b;
  const out: T[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length)
    out[k++] = byTimeThenId(a[i] as T, b[j] as T) <= 0 ? (a[i++] as T) : (b[j++] as T);
  while (i < a.length) out[k++] = a[i++] as T;
  while (j < b.length) out[k++] = b[j++] as T;
  return out;
}

/** Index of the first event with time >= `time`. */
function lowerBound(list: readonly Timed[], time: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as Timed).time < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
