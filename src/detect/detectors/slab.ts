/**
 * Fixed-width rows of 32-bit words in one growing buffer. A million per-key records cost
 * one allocation instead of a million typed arrays (each of which carries ~200 bytes of
 * object overhead), and a key's state is a plain row number.
 */
export class Slab {
  words: Uint32Array;
  /** Same buffer, 16-bit view (for packed counters). Re-read after `alloc`: growth replaces it. */
  halves: Uint16Array;
  private readonly free: number[] = [];
  private next = 0;

  constructor(
    readonly width: number,
    initialRows = 1024,
  ) {
    this.words = new Uint32Array(width * initialRows);
    this.halves = new Uint16Array(this.words.buffer);
  }

  get rows(): number {
    return this.next - this.free.length;
  }

  alloc(): number {
    const row = this.free.pop() ?? this.next++;
    if ((row + 1) * this.width > this.words.length) this.grow();
    this.words.fill(0, row * this.width, (row + 1) * this.width);
    return row;
  }

  release(row: number): void {
    this.free.push(row);
  }

  /** A copy of a row's words (snapshot, rotation). */
  read(row: number): number[] {
    return Array.from(this.words.subarray(row * this.width, (row + 1) * this.width));
  }

  write(row: number, words: ArrayLike<number>): void {
    this.words.set(words, row * this.width);
  }

  private grow(): void {
    const bigger = new Uint32Array(Math.max(this.words.length * 2, this.width * 1024));
    bigger.set(this.words);
    this.words = bigger;
    this.halves = new Uint16Array(bigger.buffer);
  }
}
