const NONE = 0;
const INLINE = 1;
const ARRAY = 2;

/**
 * Per-token ordered lists of (key, time) number pairs, indexed by token number (TokenRecord.n).
 * Most tokens hold one pair (one network): it sits in two Float64Array columns, 17 bytes a token
 * instead of a ~80-byte array; a token with more keeps them all in one exact-size array.
 * `get` lends a flat [key, time, …] array to work on in place, `put` stores the result.
 */
export class PairLists {
  private keys = new Float64Array(0);
  private times = new Float64Array(0);
  private kinds = new Uint8Array(0);
  private readonly arrays = new Map<number, number[]>();
  /** What `get` lends for an inline pair; valid until the next `get`. */
  private scratch = [0, 0];
  /** The array `get` last lent, and whose: storing it back unchanged in length costs nothing. */
  private lent: number[] | undefined;
  private lentTo = -1;

  /** The list of token `n` (flat pairs), or undefined when it has none. */
  get(n: number): number[] | undefined {
    const kind = this.kinds[n];
    if (kind === undefined || kind === NONE) return undefined;
    if (kind === ARRAY) {
      this.lent = this.arrays.get(n);
      this.lentTo = n;
      return this.lent;
    }
    // A borrower may have spliced it: a new one then (setting `length` is a slow runtime call).
    if (this.scratch.length !== 2) this.scratch = [0, 0];
    const pair = this.scratch;
    pair[0] = this.keys[n] as number;
    pair[1] = this.times[n] as number;
    return pair;
  }

  /** Store `list` (flat pairs; may be what `get` lent) as token `n`'s. */
  put(n: number, list: number[]): void {
    // Changed in place (a touch of a known network): already stored, no hash look-up.
    if (list === this.lent && n === this.lentTo && list.length > 2 && this.kinds[n] === ARRAY) return;
    if (n >= this.kinds.length) this.grow(n);
    if (list.length === 0) {
      this.clear(n);
    } else if (list.length === 2) {
      if (this.kinds[n] === ARRAY) this.arrays.delete(n);
      this.kinds[n] = INLINE;
      this.keys[n] = list[0] as number;
      this.times[n] = list[1] as number;
    } else {
      this.kinds[n] = ARRAY;
      this.arrays.set(n, list === this.scratch ? [...list] : list);
    }
  }

  clear(n: number): void {
    if (n >= this.kinds.length) return;
    if (this.kinds[n] === ARRAY) this.arrays.delete(n);
    this.kinds[n] = NONE;
  }

  /** Forget every list (parameters changed what keys mean). */
  clearAll(): void {
    this.kinds.fill(NONE);
    this.arrays.clear();
  }

  private grow(n: number): void {
    const size = Math.max(n + 1, this.kinds.length * 2, 1024);
    const keys = new Float64Array(size);
    const times = new Float64Array(size);
    const kinds = new Uint8Array(size);
    keys.set(this.keys);
    times.set(this.times);
    kinds.set(this.kinds);
    this.keys = keys;
    this.times = times;
    this.kinds = kinds;
  }
}

/** A Float64Array column indexed by token number that grows on write; NaN where unset. */
export class NumberColumn {
  private values = new Float64Array(0);

  get(n: number): number {
    // Out of range (a number never set, or -1 of a record outside the table): unset.
    const value = this.values[n];
    return value === undefined ? Number.NaN : value;
  }

  set(n: number, value: number): void {
    if (n >= this.values.length) {
      const bigger = new Float64Array(Math.max(n + 1, this.values.length * 2, 1024)).fill(Number.NaN);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[n] = value;
  }

  clearAll(): void {
    this.values.fill(Number.NaN);
  }
}
