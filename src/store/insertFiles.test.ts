import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InsertFiles } from './insertFiles.js';

describe('insert files', () => {
  let files: InsertFiles;
  afterEach(async () => {
    await files?.close();
  });

  it('hold exactly the last bytes written, a shorter write included', async () => {
    files = new InsertFiles(2);
    const f = await files.take();
    await f.write(Buffer.from('a long first batch\n'.repeat(1000)));
    await f.write(Buffer.from('short\n'));
    expect(readFileSync(f.path, 'utf8')).toBe('short\n');
  });

  it('are reused once given back, and a dropped one is not', async () => {
    files = new InsertFiles(2);
    const a = await files.take();
    files.give(a);
    expect(await files.take()).toBe(a);
    files.drop(a);
    const b = await files.take();
    expect(b).not.toBe(a);
  });

  it.runIf(process.platform === 'linux')('have no name another process could open', async () => {
    files = new InsertFiles(2);
    const f = await files.take();
    await f.write(Buffer.from('rows\n'));
    expect(f.path).toMatch(/^\/proc\/self\/fd\/\d+$/);
    // Nothing of this process's is named in the folder the file was made in.
    expect(readdirSync('/dev/shm').filter((n) => n.startsWith(`choir-insert-${process.pid}-`))).toEqual([]);
  });

  it('leave nothing behind once closed', async () => {
    files = new InsertFiles(2);
    const f = await files.take();
    await f.write(Buffer.from('rows\n'));
    const path = f.path;
    await files.close();
    expect(existsSync(path)).toBe(false);
    if (!path.startsWith('/proc/')) expect(existsSync(dirname(path))).toBe(false);
  });
});
