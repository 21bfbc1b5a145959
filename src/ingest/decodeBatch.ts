import type { Decoder } from '../events/decode.js';
import { EVENTS_TABLE } from '../store/chainedTables.js';
import { type RawRecord, type Rows, toRows } from './toRows.js';

/**
 * What crosses between the main thread and a decode worker (decodePool.ts): the records of one
 * source batch in, the decoded rows with their canonical encoding and digests out. Plain functions
 * so that the inline path and the tests use them without a thread.
 */

/** Records from one source and partition, as bytes. */
export interface RecordBatch {
  /** `kafka:<topic>`, `http`, `file:<name>`… */
  source: string;
  partition: number;
  /** Per record: its Kafka offset or line number, -1 when it has none. */
  offsets: ArrayLike<number>;
  /** Per record: its UTF-8 bytes; null is an empty Kafka message. */
  values: readonly (Uint8Array | null)[];
}

export interface DecodeRequest {
  format: string;
  source: string;
  partition: number;
  /** Ingestion time stamped on every row. */
  now: number;
  offsets: Float64Array;
  /** Every record's bytes back to back, record i ending at ends[i]. */
  texts: Uint8Array;
  ends: Uint32Array;
}

export interface DecodeReply {
  rows: Rows;
  /** Each event's canonical line (canonicalForm.ts) back to back, line i ending at lineEnds[i]. */
  lines: Uint8Array;
  lineEnds: Uint32Array;
  /** Each event's SHA-256 digest (lowercase hex). */
  digests: string[];
}

/** One request holding the batch's bytes in a buffer of its own, which is moved to the worker, not copied. */
export function packRequest(
  format: string,
  batch: RecordBatch,
  now: number,
): { request: DecodeRequest; transfer: ArrayBuffer[] } {
  const n = batch.values.length;
  let size = 0;
  for (const v of batch.values) size += v?.length ?? 0;
  const texts = new Uint8Array(size);
  const ends = new Uint32Array(n);
  const offsets = Float64Array.from(batch.offsets);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = batch.values[i];
    if (v) {
      texts.set(v, at);
      at += v.length;
    }
    ends[i] = at;
  }
  const { source, partition } = batch;
  return {
    request: { format, source, partition, now, offsets, texts, ends },
    transfer: [texts.buffer, ends.buffer, offsets.buffer],
  };
}

/**
 * UTF-8 as Buffer#toString decodes it (invalid bytes become U+FFFD, a BOM is kept), in half the time
 * of wrapping each record in a Buffer to call it.
 */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** The records of a batch, as `toRows` takes them. */
export function batchRecords(batch: RecordBatch): RawRecord[] {
  const { source, partition } = batch;
  return batch.values.map((v, i) => ({
    text: v ? utf8.decode(v) : '',
    origin: { source, partition, offset: batch.offsets[i]! },
  }));
}

/** The records of a request, as `toRows` takes them. */
export function requestRecords(req: DecodeRequest): RawRecord[] {
  const values: Uint8Array[] = new Array(req.ends.length);
  let start = 0;
  for (let i = 0; i < req.ends.length; i++) {
    values[i] = req.texts.subarray(start, req.ends[i]!);
    start = req.ends[i]!;
  }
  return batchRecords({ source: req.source, partition: req.partition, offsets: req.offsets, values });
}

/** The decoder of a format, or an error naming the format. */
export function decoderOf(decoderFor: (format: string) => Decoder | null, format: string): Decoder {
  const decode = decoderFor(format);
  if (!decode) throw new Error(`no decoder for format "${format}"`);
  return decode;
}

/** The worker's side: decode, then encode and hash every event exactly as the store would. */
export function decodeRequest(
  req: DecodeRequest,
  decoderFor: (format: string) => Decoder | null,
): { reply: DecodeReply; transfer: ArrayBuffer[] } {
  const rows = toRows(requestRecords(req), decoderOf(decoderFor, req.format), req.now);
  const form = EVENTS_TABLE.form;
  const events = rows.events;
  const bytes = events.map((r) => form.bytes(r));
  let size = 0;
  for (const b of bytes) size += b.length;
  const lines = new Uint8Array(size);
  const lineEnds = new Uint32Array(events.length);
  let at = 0;
  for (let i = 0; i < events.length; i++) {
    lines.set(bytes[i]!, at);
    at += bytes[i]!.length;
    lineEnds[i] = at;
  }
  const digests = form.digests(events);
  form.forget(events);
  return {
    reply: { rows, lines, lineEnds, digests },
    transfer: [lines.buffer, lineEnds.buffer],
  };
}

/** The main thread's side: the rows, each with its encoding and digest remembered for the insert. */
export function adoptReply(reply: DecodeReply): Rows {
  const form = EVENTS_TABLE.form;
  const lines = Buffer.from(reply.lines.buffer, reply.lines.byteOffset, reply.lines.byteLength);
  const events = reply.rows.events;
  let start = 0;
  for (let i = 0; i < events.length; i++) {
    const end = reply.lineEnds[i]!;
    form.remember(events[i]!, lines.subarray(start, end), reply.digests[i]!);
    start = end;
  }
  return reply.rows;
}
