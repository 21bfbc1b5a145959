import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Decoder } from '../events/decode.js';
import type { Batcher } from './batcher.js';
import { type RawRecord, toRows } from './toRows.js';

export interface FileSummary {
  read: number;
  stored: number;
  duplicates: number;
  deadLettered: number;
  ignored: number;
  /** Top reasons for dead letters and ignored records, with counts. */
  reasons: Record<string, number>;
}

const CHUNK_LINES = 5_000;
/** Chunks in flight: enough to keep the batcher full while the next lines are decoded. */
const MAX_IN_FLIGHT = 8;

/**
 * Read NDJSON from a stream (a file or stdin) into the batcher. Lines are numbered from 1;
 * `source` + line number identify a record, so re-reading the same file stores nothing twice.
 */
export async function ingestStream(opts: {
  input: Readable;
  source: string;
  decode: Decoder;
  batcher: Batcher;
  onProgress?: (s: FileSummary) => void;
  now?: () => number;
}): Promise<FileSummary> {
  const { batcher, decode } = opts;
  const now = opts.now ?? Date.now;
  const summary: FileSummary = {
    read: 0,
    stored: 0,
    duplicates: 0,
    deadLettered: 0,
    ignored: 0,
    reasons: {},
  };
  const inFlight = new Set<Promise<void>>();
  let chunk: RawRecord[] = [];
  let line = 0;
  let failure: unknown = null;

  const send = async (records: RawRecord[]) => {
    const rows = toRows(records, decode, now());
    for (const r of [...rows.rejected, ...rows.ignored]) {
      summary.reasons[r.reason] = (summary.reasons[r.reason] ?? 0) + 1;
    }
    summary.ignored += rows.ignored.length;
    const p: Promise<void> = batcher
      .write(rows.events, rows.deadLetters)
      .then(
        (r) => {
          summary.stored += r.stored;
          summary.duplicates += r.duplicates;
          summary.deadLettered += r.deadLettered;
          opts.onProgress?.(summary);
        },
        (err) => {
          failure ??= err;
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    if (failure) throw failure;
  };

  for await (const text of createInterface({ input: opts.input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    if (text.trim() === '') continue;
    summary.read++;
    chunk.push({ text, origin: { source: opts.source, partition: 0, offset: line } });
    if (chunk.length >= CHUNK_LINES) {
      await send(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await send(chunk);
  await batcher.flush();
  await Promise.all(inFlight);
  if (failure) throw failure;
  return summary;
}
