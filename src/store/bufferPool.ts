/**
 * Large buffers kept for the next use instead of left to the garbage collector. Memory the process
 * has not touched yet costs a page fault per 4 KiB, and on a virtual machine that hands freed pages
 * back to its host a fault costs far more than a copy: ~15 µs a page on the 2-core reference machine
 * (measured), so a fresh 10 MiB insert payload cost ~35 ms to write where a reused one costs ~3.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  /** @param keep how many idle buffers to hold at most */
  constructor(private readonly keep: number) {}

  /** A buffer of at least `size` bytes, its content undefined; give it back once nothing reads it. */
  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    // Room to grow: batches vary in size, and a buffer a little too small would never be reused.
    return Buffer.allocUnsafe(Math.ceil(size * 1.25));
  }

  give(buf: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buf);
  }
}
