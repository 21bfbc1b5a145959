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

// Quiet row layout (32-bit words): a key whose minutes stay far below min_rate needs only the
// few recent minutes that were not zero. QUIET_FULL is the full row + 1 once it has one.
const QUIET_FULL = 0;
const QUIET_MINUTE = 1;
const QUIET_COUNT = 2;
const QUIET_FIRST = 3;
const QUIET_PAST = 4;
const PAST = 2;
const QUIET_WIDTH = QUIET_PAST + 2 * PAST;

/**
 * Per-key per-minute request counts in a ring against a robust baseline: median and MAD of the
 * previous `minutes` minutes. Statistics are computed at most once per key per minute, and only
 * once the minute reaches `minRate`, so most events cost an increment and a comparison.
 *
 * A key starts as a quiet row of 32 bytes holding its last few non-zero minutes; it gets a full
 * row (header, bursts and ring, ~200 bytes) the first time the full logic could do anything a
 * quiet row cannot express — a minute near min_rate, a possible burst, more busy minutes than
 * fit. The full row is built to the very words it would hold had it existed from the start, so
 * verdicts do not depend on when that happened. Most of a million tokens never need one.
 */
export class SpikeSeries {
  /** Full rows: header, recent bursts, then the 16-bit ring. */
  private readonly slab: Slab;
  /** Quiet rows, one per key: what callers hold. */
  private readonly quiet = new Slab(QUIET_WIDTH);
  private readonly ringAt: number;
  private readonly scratch: number[] = [];
  /** Figures of the last evaluation, read by the detector to describe a spike. */
  median = 0;
  mad = 0;
  threshold = 0;

  /** `quietRows: false` gives every key a full row at once (tests compare both). */
  constructor(
    readonly minutes: number,
    private s: SpikeSettings,
    private readonly quietRows = true,
  ) {
    this.ringAt = (HEADER + 2 * SIGS) * 2;
    this.slab = new Slab(HEADER + 2 * SIGS + Math.ceil(minutes / 2));
  }

  /** Words of a row as `read` gives them and `restore` takes them. */
  get width(): number {
    return this.slab.width;
  }

  /** Keys with a full row (the rest are quiet). */
  get fullRows(): number {
    return this.slab.rows;
  }

  configure(settings: SpikeSettings): void {
    this.s = settings;
  }

  create(minute: number): number {
    const row = this.quiet.alloc();
    const q = this.quiet.words;
    q[row * QUIET_WIDTH + QUIET_MINUTE] = minute;
    q[row * QUIET_WIDTH + QUIET_FIRST] = minute;
    if (!this.quietRows) this.promote(row);
    return row;
  }

  release(row: number): void {
    const full = this.quiet.words[row * QUIET_WIDTH + QUIET_FULL] as number;
    if (full > 0) this.slab.release(full - 1);
    this.quiet.release(row);
  }

  /** The row's state as full-row words (snapshot, rotation). */
  read(row: number): number[] {
    const full = this.quiet.words[row * QUIET_WIDTH + QUIET_FULL] as number;
    if (full > 0) return this.slab.read(full - 1);
    const words = new Uint32Array(this.slab.width);
    this.fill(row, words, new Uint16Array(words.buffer), 0);
    return Array.from(words);
  }

  /** A new row holding `words` (from `read`). */
  restore(words: ArrayLike<number>): number {
    const row = this.quiet.alloc();
    const full = this.slab.alloc();
    this.slab.write(full, words);
    this.quiet.words[row * QUIET_WIDTH + QUIET_FULL] = full + 1;
    return row;
  }

  /** A new row with the same state as `row` (a rotated token's successor). */
  copy(row: number): number {
    if (this.quiet.words[row * QUIET_WIDTH + QUIET_FULL] !== 0) return this.restore(this.read(row));
    const copy = this.quiet.alloc();
    const q = this.quiet.words;
    q.copyWithin(copy * QUIET_WIDTH, row * QUIET_WIDTH, (row + 1) * QUIET_WIDTH);
    return copy;
  }

  /** Count one request in `minute`; say whether the minute just became a spike. */
  add(row: number, minute: number): Verdict {
    const full = this.quiet.words[row * QUIET_WIDTH + QUIET_FULL] as number;
    if (full > 0) return this.addFull(full - 1, minute);
    if (this.addQuiet(row * QUIET_WIDTH, minute)) return Verdict.None;
    return this.addFull(this.promote(row), minute);
  }

  /**
   * The request on a quiet row, when the full logic would only count it: true if done. False
   * (row untouched, or rolled to `minute` as the full logic would have) when a full row must take it.
   */
  private addQuiet(q: number, minute: number): boolean {
    const w = this.quiet.words;
    const current = w[q + QUIET_MINUTE] as number;
    if (minute < current) {
      if (current - minute > this.minutes) return true;
      return this.remember(q, minute, 1, current);
    }
    if (minute > current) {
      const count = w[q + QUIET_COUNT] as number;
      // The full roll would look for a burst here: only a full row can say.
      if (count !== 0 && count * this.s.recurrenceRatio >= this.s.minRate) return false;
      if (count !== 0 && minute - current <= this.minutes && !this.remember(q, current, count, minute))
        return false;
      w[q + QUIET_MINUTE] = minute;
      w[q + QUIET_COUNT] = 0;
    }
    const count = (w[q + QUIET_COUNT] as number) + 1;
    if (count >= this.s.minRate) return false;
    w[q + QUIET_COUNT] = count;
    return true;
  }

  /**
   * Add `count` to the past minute `minute` of a quiet row whose current minute is `now`; false
   * when no entry is free. Minutes more than the ring's length before `now` are never read again.
   */
  private remember(q: number, minute: number, count: number, now: number): boolean {
    const w = this.quiet.words;
    let free = -1;
    for (let i = 0; i < PAST; i++) {
      const at = q + QUIET_PAST + 2 * i;
      if (w[at + 1] !== 0 && w[at] === minute) {
        w[at + 1] = Math.min((w[at + 1] as number) + count, 0xffff);
        return true;
      }
      if (free < 0 && (w[at + 1] === 0 || now - (w[at] as number) > this.minutes)) free = at;
    }
    if (free < 0) return false;
    w[free] = minute;
    w[free + 1] = Math.min(count, 0xffff);
    return true;
  }

  /** Give a quiet row its full row, with the words the full logic would have written. */
  private promote(row: number): number {
    const full = this.slab.alloc();
    this.fill(row, this.slab.words, this.slab.halves, full * this.slab.width);
    this.quiet.words[row * QUIET_WIDTH + QUIET_FULL] = full + 1;
    return full;
  }

  /** Full-row words of quiet `row` into `w`/`h` at word `b` (zeroed before). */
  private fill(row: number, w: Uint32Array, h: Uint16Array, b: number): void {
    const q = this.quiet.words;
    const at = row * QUIET_WIDTH;
    const current = q[at + QUIET_MINUTE] as number;
    w[b + MINUTE] = current;
    w[b + COUNT] = q[at + QUIET_COUNT] as number;
    w[b + FIRST] = q[at + QUIET_FIRST] as number;
    // A quiet row never evaluated this minute nor kept a burst: trigger, threshold, alerted as after a roll.
    w[b + TRIGGER] = this.s.minRate;
    for (let i = 0; i < PAST; i++) {
      const minute = q[at + QUIET_PAST + 2 * i] as number;
      const count = q[at + QUIET_PAST + 2 * i + 1] as number;
      if (count !== 0 && current - minute <= this.minutes)
        h[b * 2 + this.ringAt + (minute % this.minutes)] = count;
    }
  }

  private addFull(row: number, minute: number): Verdict {
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
