import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A file an embedded insert's bytes pass through, read by chDB with `INSERT … FROM INFILE path`. */
export interface InsertFile {
  /** Where chDB reads it. */
  readonly path: string;
  /** Make `bytes` the whole content of the file. */
  write(bytes: Buffer): Promise<void>;
}

/**
 * Files in memory (tmpfs) that embedded inserts pass through, each reused for the next insert.
 *
 * Why a file: chDB stores rows read `FROM INFILE` for ~60% of the CPU its in-memory insert
 * (chdb's rawInsert) needs for the same bytes, because rawInsert first copies the payload, behind the
 * statement's text, into memory of its own. Why reused: the pages of a tmpfs file are allocated when
 * first written, and on a VM that hands freed pages back to its host each costs a page fault
 * (~15 µs per 4 KiB on the 2-core reference machine). A file written afresh for every insert made
 * the whole Kafka ▸ ClickHouse path slower, not faster (measured, commit 9cc0723); rewriting the
 * same one allocates nothing once it has reached the size of a batch. /dev/shm must hold one batch
 * per file (Docker gives a container 64 MiB unless told `--shm-size`): when it is full, the insert
 * fails with ENOSPC and is retried like any storage failure.
 *
 * On Linux each file is unlinked as soon as it is opened and chDB (in this process) reads it through
 * /proc/self/fd: no other process can open it by name, and a killed Choir leaves nothing behind,
 * not even a folder.
 * Elsewhere the files live in a private folder (0700) that `close()` removes.
 */
export class InsertFiles {
  private readonly free: PooledFile[] = [];
  private readonly open: Set<PooledFile> = new Set();
  private folder: string | null = null;
  private made = 0;

  /** @param keep how many idle files to hold at most: one per insert that may run at once */
  constructor(private readonly keep: number) {}

  /** A file for one insert; give it back once the insert has succeeded. */
  async take(): Promise<InsertFile> {
    const reused = this.free.pop();
    if (reused) return reused;
    const file = await this.create();
    this.open.add(file);
    return file;
  }

  /**
   * Back to the pool, once its insert has succeeded. A file whose write or insert failed is dropped
   * instead (`drop`): what it then holds is unknown, and a fresh file costs only its first pages.
   */
  give(file: InsertFile): void {
    const f = file as PooledFile;
    if (this.free.length < this.keep) this.free.push(f);
    else this.drop(f);
  }

  /** Closed, not reused. */
  drop(file: InsertFile): void {
    const f = file as PooledFile;
    this.open.delete(f);
    void f.handle.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.open].map((f) => f.handle.close().catch(() => undefined)));
    this.open.clear();
    this.free.length = 0;
    if (this.folder) rmSync(this.folder, { recursive: true, force: true });
  }

  private async create(): Promise<PooledFile> {
    this.made++;
    if (SELF_FD) {
      // Named only until it is open: exclusive ('wx'), then unlinked; no folder to leave behind.
      const name = join(
        MEMORY_DIR,
        `choir-insert-${process.pid}-${this.made}-${randomBytes(6).toString('hex')}`,
      );
      const handle = await open(name, 'wx+', 0o600);
      await unlink(name);
      return new PooledFile(handle, `${SELF_FD}/${handle.fd}`);
    }
    this.folder ??= mkdtempSync(join(MEMORY_DIR, 'choir-insert-'));
    const name = join(this.folder, `${this.made}.tsv`);
    return new PooledFile(await open(name, 'wx+', 0o600), name);
  }
}

/** Linux's view of this process's open files; null where there is none. */
const SELF_FD = existsSync('/proc/self/fd') ? '/proc/self/fd' : null;
/** Memory-backed where the system has it. */
const MEMORY_DIR = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

class PooledFile implements InsertFile {
  constructor(
    readonly handle: FileHandle,
    readonly path: string,
  ) {}

  async write(bytes: Buffer): Promise<void> {
    // Over the old content, then cut to length: pages already allocated are rewritten in place.
    let at = 0;
    while (at < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, at, bytes.length - at, at);
      at += bytesWritten;
    }
    await this.handle.truncate(bytes.length);
  }
}
