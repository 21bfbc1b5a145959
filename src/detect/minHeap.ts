/** A binary min-heap of (due time, key) pairs: which alert window closes next. */
export class MinHeap {
  private readonly due: number[] = [];
  private readonly keys: string[] = [];

  get size(): number {
    return this.due.length;
  }

  /** Due time of the earliest entry, Infinity when empty. */
  peek(): number {
    return this.due[0] ?? Number.POSITIVE_INFINITY;
  }

  push(due: number, key: string): void {
    let i = this.due.length;
    this.due.push(due);
    this.keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.due[parent] as number) <= due) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Remove the earliest entry and return its key. */
  pop(): string | undefined {
    const top = this.keys[0];
    const lastDue = this.due.pop();
    const lastKey = this.keys.pop();
    if (this.due.length > 0 && lastDue !== undefined && lastKey !== undefined) {
      this.due[0] = lastDue;
      this.keys[0] = lastKey;
      this.sink(0);
    }
    return top;
  }

  private sink(start: number): void {
    const n = this.due.length;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < n && (this.due[l] as number) < (this.due[min] as number)) min = l;
      if (r < n && (this.due[r] as number) < (this.due[min] as number)) min = r;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }

  private swap(a: number, b: number): void {
    [this.due[a], this.due[b]] = [this.due[b] as number, this.due[a] as number];
    [this.keys[a], this.keys[b]] = [this.keys[b] as string, this.keys[a] as string];
  }
}
