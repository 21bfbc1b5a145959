import type { Logger } from 'pino';
import { type Alert, mergeAlert, mergeOccurrence } from './alert.js';
import { MinHeap } from './minHeap.js';

/**
 * `opened`: first time this id is seen; `updated`: the same id with merged repeats; `reopened`: an
 * id whose window had closed and been forgotten (a repeat over a window late): a part of the alert.
 */
export type AlertChange = 'opened' | 'updated' | 'reopened';
/** Receives every alert with the start of its dedup window (event time); consumers upsert by `alert.id`. */
export type AlertSink = (alert: Alert, change: AlertChange, windowStart: number) => void;

export interface AlertAggregatorOptions {
  sink: AlertSink;
  logger: Logger;
  /** Open windows kept at most; beyond it the oldest are closed early (emitted, not dropped). */
  maxOpen?: number;
}

interface Entry {
  alert: Alert;
  /** End of the dedup window (event time). */
  end: number;
  window: number;
  dirty: boolean;
  closed: boolean;
}

/**
 * Collapses repeats of one alert id within its rule's window. The first occurrence is emitted
 * at once (latency matters); repeats are merged and emitted when the watermark passes the
 * window end, at `flush()`, or when capacity forces an early close. A closed window is kept
 * one more window so a late repeat still merges into the same counts.
 */
export class AlertAggregator {
  private readonly entries = new Map<string, Entry>();
  private readonly due = new MinHeap();
  private readonly maxOpen: number;
  private overloaded = false;
  private watermark = Number.NEGATIVE_INFINITY;
  /** Ids closed early over capacity, while their window may still see repeats. */
  private readonly forced = new Set<string>();

  constructor(private readonly options: AlertAggregatorOptions) {
    this.maxOpen = options.maxOpen ?? 100_000;
  }

  get open(): number {
    return this.entries.size;
  }

  /** Add one occurrence; `windowStart`/`window` bound the dedup window of `alert.id`. */
  add(alert: Alert, windowStart: number, window: number): void {
    const entry = this.entries.get(alert.id);
    if (entry) {
      mergeAlert(entry.alert, alert);
      entry.dirty = true;
      return;
    }
    const end = windowStart + window;
    this.entries.set(alert.id, { alert, end, window, dirty: false, closed: false });
    this.due.push(end, alert.id);
    // A copy, so the sink may keep it while later repeats merge into ours.
    // Windows are forgotten one window after they close (see `step`).
    const forgotten = windowStart + 2 * window <= this.watermark || this.forced.delete(alert.id);
    const change = forgotten ? 'reopened' : 'opened';
    this.options.sink(structuredClone(alert), change, windowStart);
    if (this.entries.size > this.maxOpen) this.closeOldest();
  }

  /** True while `id` has an open (or just closed) window here. */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Merge one more event into an open alert; false when `id` is not open (build and `add` it). */
  repeat(
    id: string,
    ev: Parameters<typeof mergeOccurrence>[1],
    count: number,
    context?: Alert['details']['context'],
  ): boolean {
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    mergeOccurrence(entry.alert, ev, count, context);
    entry.dirty = true;
    return true;
  }

  /** Close windows that ended at or before `watermark`. */
  advance(watermark: number): void {
    if (watermark > this.watermark) this.watermark = watermark;
    while (this.due.size > 0 && this.due.peek() <= watermark) this.step();
    if (this.entries.size < this.maxOpen * 0.9) this.overloaded = false;
  }

  /** Emit every pending update and forget all windows (end of a replay, shutdown). */
  flush(): void {
    for (const entry of this.entries.values()) if (entry.dirty) this.emit(entry);
    this.entries.clear();
    while (this.due.size > 0) this.due.pop();
  }

  /** Open windows, for a snapshot. */
  snapshot(): Array<{ alert: Alert; end: number; window: number; dirty: boolean; closed: boolean }> {
    return [...this.entries.values()].map((e) => ({ ...e, alert: structuredClone(e.alert) }));
  }

  restore(entries: ReturnType<AlertAggregator['snapshot']>): void {
    for (const e of entries) {
      this.entries.set(e.alert.id, { ...e });
      this.due.push(e.closed ? e.end + e.window : e.end, e.alert.id);
    }
  }

  private closeOldest(): void {
    // Once per overload episode: this runs for every new alert while over capacity.
    if (!this.overloaded)
      this.options.logger.warn(
        { open: this.entries.size },
        'alert windows over capacity: closing the oldest early',
      );
    this.overloaded = true;
    while (this.entries.size > this.maxOpen && this.due.size > 0) this.step(true);
  }

  private step(force = false): void {
    const id = this.due.pop();
    const entry = id === undefined ? undefined : this.entries.get(id);
    if (!entry) return;
    if (entry.dirty) this.emit(entry);
    if (entry.closed || force) {
      this.entries.delete(entry.alert.id);
      if (force && !entry.closed) {
        this.forced.add(entry.alert.id);
        if (this.forced.size > this.maxOpen) this.forced.delete(this.forced.values().next().value as string);
      }
    } else {
      entry.closed = true;
      this.due.push(entry.end + entry.window, entry.alert.id);
    }
  }

  private emit(entry: Entry): void {
    entry.dirty = false;
    this.options.sink(structuredClone(entry.alert), 'updated', entry.end - entry.window);
  }
}
