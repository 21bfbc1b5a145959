/** Something that happens at `time` in the world: it emits events at that time and may reschedule. */
export interface Task {
  time: number;
  /** Tie-break for equal times, set by the queue, so the order never depends on heap layout. */
  seq: number;
  run(): void;
}

/** Binary min-heap of tasks by (time, seq): the generator's clock. */
export class TaskQueue {
  private readonly heap: Task[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  peekTime(): number {
    return this.heap.length === 0 ? Number.POSITIVE_INFINITY : (this.heap[0] as Task).time;
  }

  push(task: Task): void {
    task.seq = this.nextSeq++;
    const h = this.heap;
    let i = h.length;
    h.push(task);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Task;
      if (!before(task, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = task;
  }

  pop(): Task | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(h[r] as Task, h[l] as Task) ? r : l;
      if (!before(h[child] as Task, last)) break;
      h[i] = h[child] as Task;
      i = child;
    }
    h[i] = last;
    return top;
  }
}

function before(a: Task, b: Task): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
