import { Worker } from 'node:worker_threads';
import { decodersFor } from '../events/decoders.js';
import type { Logger } from '../logger.js';
import {
  adoptReply,
  batchRecords,
  type DecodeReply,
  type DecodeRequest,
  decoderOf,
  packRequest,
  type RecordBatch,
} from './decodeBatch.js';
import { type Rows, toRows } from './toRows.js';

/**
 * Decoding off the main thread. Parsing, validating, normalising, redacting, encoding and hashing
 * cost most of a row's CPU; done in worker threads they overlap kafkajs, the batcher, detection and
 * ClickHouse on the main thread. `workers: 0` decodes inline, with the very same functions.
 */
export interface DecodePool {
  decode(format: string, batch: RecordBatch): Promise<Rows>;
  close(): Promise<void>;
}

interface Pending {
  resolve(rows: Rows): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

type Answer = { id: number; reply: DecodeReply } | { id: number; error: string };

export function createDecodePool(opts: {
  fingerprintKey: string;
  workers: number;
  logger: Logger;
  now?: () => number;
}): DecodePool {
  const now = opts.now ?? Date.now;
  if (opts.workers === 0) {
    // The rows are encoded and hashed later, by the store, as rows from any other source.
    const decoderFor = decodersFor(opts.fingerprintKey);
    return {
      async decode(format, batch) {
        return toRows(batchRecords(batch), decoderOf(decoderFor, format), now());
      },
      async close() {},
    };
  }

  const log = opts.logger.child({ module: 'decode-pool' });
  const slots: (Slot | null)[] = new Array(opts.workers).fill(null);
  let nextId = 0;
  let closed = false;

  function start(index: number): Slot {
    const slot: Slot = { worker: spawnWorker(opts.fingerprintKey), pending: new Map() };
    slot.worker.unref();
    slot.worker.on('message', (m: Answer) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) slot.worker.unref();
      if ('error' in m) p.reject(new Error(`decode failed: ${m.error}`));
      else p.resolve(adoptReply(m.reply));
    });
    // A worker that dies fails what it held (a Kafka batch is then fetched again); the next request starts a new one.
    const fail = (err: Error) => {
      if (slots[index] === slot) slots[index] = null;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    slot.worker.on('error', (err) => {
      log.error({ err: err.message }, 'decode worker failed; starting another');
      fail(new Error(`decode worker failed: ${err.message}`));
    });
    slot.worker.on('exit', (code) => fail(new Error(`decode worker exited with code ${code}`)));
    slots[index] = slot;
    return slot;
  }

  /** The least busy worker: requests to one worker are answered in order. */
  function pick(): Slot {
    let best = -1;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      if (!s) return start(i);
      if (best < 0 || s.pending.size < slots[best]!.pending.size) best = i;
    }
    return slots[best]!;
  }

  return {
    decode(format, batch) {
      if (closed) return Promise.reject(new Error('decode pool is closed'));
      const slot = pick();
      const id = nextId++;
      const { request, transfer } = packRequest(format, batch, now());
      return new Promise<Rows>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        slot.worker.ref();
        slot.worker.postMessage({ id, request } satisfies { id: number; request: DecodeRequest }, transfer);
      });
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s?.worker.terminate()));
    },
  };
}

/**
 * Compiled, the worker is decodeWorker.js beside this file. Run from TypeScript sources (tests,
 * benches, `tsx`), the worker registers tsx first, as its parent did.
 */
function spawnWorker(fingerprintKey: string): Worker {
  const workerData = { fingerprintKey };
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./decodeWorker.js', self), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./decodeWorker.ts', self).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
