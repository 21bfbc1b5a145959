import { medianSorted } from 'simple-statistics';
import { Slab } from './slab.js';

/** Thresholds of request_spike, in minutes and requests per minute. */
export interface SpikeSettings {
  warmUpMinutes: number;
  minRate: number;
  thresholdMads: number;
  minRatio: number;
  toleranceMinutes: number;
  recurrenceRatio: number;
  lookbackMinutes: number;
}

/** What one request did to its minute. `Recurring`: over the threshold, but at the minute of the hour where a burst of that size happened before. */
export const Verdict = { None: 0, Recurring: 1, Spike: 2 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

// Row layout (32-bit words): header, then (minute, count) of recent bursts, then 16-bit counters.
const MINUTE = 0;
const COUNT = 1;
const TRIGGER = 2;
const FIRST = 3;
const THRESHOLD = 4;
const SIG_NEXT = 5;
const ALERTED = 6;
const HEADER = 8;
const SIGS = 8;
const NEVER = 0xffffffff;

/**
 * Per-key per-minute request counts in a ring (one Slab row per key) against a robust
 * baseline: median and MAD of the previous `minutes` minutes. Statistics are computed at most
 * once per key per minute, and only once the minute reaches `minRate`, so most events cost
 * an increment and a comparison.
 */
export class SpikeSeries {
  readonly slab: Slab;
  private readonly ringAt: number;
  private readonly scratch: number[] = [];
  /** Figures of the last evaluation, read by the detector to describe a spike. */
  median = 0;
  mad = 0;
  threshold = 0;

  constructor(
    readonly minutes: number,
    private s: SpikeSettings,
  ) {
    this.ringAt = (HEADER + 2 * SIGS) * 2;
    this.slab = new Slab(HEADER + 2 * SIGS + Math.ceil(minutes / 2));
  }

  configure(settings: SpikeSettings): void {
    this.s = settings;
  }

  create(minute: number): number {
    const row = this.slab.alloc();
    const b = row * this.slab.width;
    const w = this.slab.words;
    w[b + MINUTE] = minute;
    w[b + FIRST] = minute;
    w[b + TRIGGER] = this.s.minRate;
    return row;
  }

  /** Count one request in `minute`; say whether the minute just became a spike. */
  add(row: number, minute: number): Verdict {
    const w = this.slab.words;
    const b = row * this.slab.width;
    const current = w[b + MINUTE] as number;
    if (minute < current) {
      // Late request: count it where it belongs, never alert on a minute already past.
      if (current - minute <= this.minutes) this.bump(row, minute);
      return Verdict.None;
    }
    if (minute > current) this.roll(b, current, minute);
    const count = (w[b + COUNT] as number) + 1;
    w[b + COUNT] = count;
    if (count < (w[b + TRIGGER] as number)) return Verdict.None;
    return this.evaluate(b, minute, count);
  }

  private evaluate(b: number, minute: number, count: number): Verdict {
    const w = this.slab.words;
    if (w[b + THRESHOLD] === 0) {
      w[b + THRESHOLD] = this.baseline(b, minute);
      w[b + TRIGGER] = w[b + THRESHOLD] as number;
      if (count < (w[b + TRIGGER] as number)) return Verdict.None;
    }
    if (w[b + ALERTED] === 1 || minute - (w[b + FIRST] as number) < this.s.warmUpMinutes) {
      w[b + TRIGGER] = NEVER;
      return Verdict.None;
    }
    const previous = this.recurrence(b, minute);
    if (previous > 0 && count <= previous * this.s.recurrenceRatio) {
      w[b + TRIGGER] = Math.floor(previous * this.s.recurrenceRatio) + 1;
      return Verdict.Recurring;
    }
    w[b + ALERTED] = 1;
    w[b + TRIGGER] = NEVER;
    return Verdict.Spike;
  }

  /** Size of the largest earlier burst at this minute of the hour (±tolerance), else 0. */
  private recurrence(b: number, minute: number): number {
    const w = this.slab.words;
    const tol = this.s.toleranceMinutes;
    let best = 0;
    for (let i = 0; i < SIGS; i++) {
      const at = w[b + HEADER + 2 * i] as number;
      const size = w[b + HEADER + 2 * i + 1] as number;
      const ago = minute - at;
      if (size === 0 || ago < 60 - tol || ago > this.s.lookbackMinutes) continue;
      const offset = ago % 60;
      if (offset <= tol || offset >= 60 - tol) best = Math.max(best, size);
    }
    return best;
  }

  /** Threshold for the current minute from the ring (minutes before `first` do not count). */
  private baseline(b: number, minute: number): number {
    this.threshold = Math.max(this.s.minRate, this.burstLevel(b, minute));
    return this.threshold;
  }

  /** The statistical part of the threshold: far above the median of the ring, min_rate aside. */
  private burstLevel(b: number, minute: number): number {
    const values = this.scratch;
    values.length = 0;
    const from = Math.max(this.slab.words[b + FIRST] as number, minute - this.minutes);
    const h = this.slab.halves;
    const ring = b * 2 + this.ringAt;
    for (let m = from; m < minute; m++) values.push(h[ring + (m % this.minutes)] as number);
    if (values.length === 0) values.push(0);
    values.sort(byNumber);
    const median = medianSorted(values);
    for (let i = 0; i < values.length; i++) values[i] = Math.abs((values[i] as number) - median);
    values.sort(byNumber);
    const mad = medianSorted(values);
    const sigma = Math.max(1.4826 * mad, 1);
    this.median = median;
    this.mad = mad;
    return Math.max(
      Math.floor(median + this.s.thresholdMads * sigma) + 1,
      Math.ceil(this.s.minRatio * median),
    );
  }

  /**
   * Whether the minute that ends is a burst to remember. Above min_rate the threshold decides. A
   * burst below min_rate is remembered too when it could grow past min_rate and still be the same
   * recurring job (within recurrence_ratio): otherwise a cron job that usually stays just under
   * min_rate would look like a spike the first hour it crossed it.
   */
  private isBurst(b: number, current: number, count: number): boolean {
    const threshold = this.slab.words[b + THRESHOLD] as number;
    if (threshold > 0) return count >= threshold;
    if (count === 0 || count * this.s.recurrenceRatio < this.s.minRate) return false;
    return count >= this.burstLevel(b, current);
  }

  private roll(b: number, current: number, minute: number): void {
    const w = this.slab.words;
    const h = this.slab.halves;
    const ring = b * 2 + this.ringAt;
    const count = w[b + COUNT] as number;
    h[ring + (current % this.minutes)] = Math.min(count, 0xffff);
    if (this.isBurst(b, current, count)) {
      // Remember the burst: the same minute next hour or tomorrow is a cron job, not an attack.
      const next = w[b + SIG_NEXT] as number;
      w[b + HEADER + 2 * next] = current;
      w[b + HEADER + 2 * next + 1] = count;
      w[b + SIG_NEXT] = (next + 1) % SIGS;
    }
    const gap = Math.min(minute - current - 1, this.minutes);
    for (let m = current + 1; m < current + 1 + gap; m++) h[ring + (m % this.minutes)] = 0;
    w[b + MINUTE] = minute;
    w[b + COUNT] = 0;
    w[b + TRIGGER] = this.s.minRate;
    w[b + THRESHOLD] = 0;
    w[b + ALERTED] = 0;
  }

  private bump(row: number, minute: number): void {
    const h = this.slab.halves;
    const at = row * this.slab.width * 2 + this.ringAt + (minute % this.minutes);
    h[at] = Math.min((h[at] as number) + 1, 0xffff);
  }
}

function byNumber(a: number, b: number): number {
  return a - b;
}
