import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors.js';
import type { Decoder } from '../events/decode.js';
import type { Batcher } from '../ingest/batcher.js';
import { type RawRecord, toRows } from '../ingest/toRows.js';
import type { Logger } from '../logger.js';
import type { AuthResult } from './auth.js';

export interface ApiOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  authenticate: (req: IncomingMessage, scope: string) => AuthResult;
  /** Decoder for a `?format=` value, or null when the format is unknown. */
  decoderFor: (format: string) => Decoder | null;
  batcher: Batcher;
  logger: Logger;
  /** Above this many rows waiting for storage, ingestion answers 503 so clients back off. */
  maxPendingRows: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP API. Every route that reads or changes data checks the caller's key and scope first. */
export async function startApi(
  opts: ApiOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const log = opts.logger.child({ module: 'api' });
  const server = createServer((req, res) => {
    handle(req, res, opts).catch((err) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log.error({ err: errorMessage(err), path: req.url }, 'request failed');
      send(res, status, { error: status === 500 ? 'internal error; see the server log' : err.message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host}:${port}`;
  log.info({ url }, 'http api listening');
  return {
    server,
    url,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: ApiOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz' && req.method === 'GET') return send(res, 200, { status: 'ok' });
  if (url.pathname !== '/v1/events') throw new HttpError(404, 'not found');
  if (req.method !== 'POST') throw new HttpError(405, 'use POST');
  const auth = opts.authenticate(req, 'ingest');
  if (!auth.ok) {
    req.resume();
    if (auth.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    return send(res, auth.status, { error: auth.status === 401 ? 'unauthorized' : 'forbidden' });
  }
  const format = url.searchParams.get('format') ?? 'choir';
  const decode = opts.decoderFor(format);
  if (!decode) throw new HttpError(400, `unknown format "${format}"`);
  if (opts.batcher.pendingRows > opts.maxPendingRows) {
    req.resume();
    res.setHeader('Retry-After', '1');
    return send(res, 503, { error: 'storage is behind; retry shortly' });
  }
  const body = await readBody(req, opts.maxBodyBytes);
  const rows = toRows(splitRecords(body, req.headers['content-type'] ?? ''), decode, Date.now());
  const receipt = await opts.batcher.write(rows.events, rows.deadLetters);
  const result = { stored: receipt.stored, duplicates: receipt.duplicates, ignored: rows.ignored.length };
  if (rows.rejected.length === 0) return send(res, 202, result);
  send(res, 400, {
    error: `${rows.rejected.length} record(s) rejected and kept as dead letters; the others were stored`,
    ...result,
    rejected: rows.rejected.map((r) => ({ line: r.origin.offset, reason: r.reason })),
  });
}

/** A JSON array, one JSON object, or NDJSON. Items are numbered from 1 as "lines". */
function splitRecords(body: string, contentType: string): RawRecord[] {
  const origin = (n: number) => ({ source: 'http', partition: 0, offset: n });
  const trimmed = body.trimStart();
  // One (possibly pretty-printed) object sent as application/json is one record, not NDJSON.
  if (trimmed.startsWith('{') && contentType.startsWith('application/json')) {
    return [{ text: body, origin: origin(1) }];
  }
  if (trimmed.startsWith('[')) {
    let items: unknown;
    try {
      items = JSON.parse(body);
    } catch {
      return [{ text: body, origin: origin(1) }]; // kept whole as one dead letter with the parse error
    }
    return (items as unknown[]).map((item, i) => ({ text: JSON.stringify(item), origin: origin(i + 1) }));
  }
  const out: RawRecord[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (text) out.push({ text, origin: origin(i + 1) });
  }
  return out;
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `body over ${limit} bytes; split it into smaller requests`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `body over ${limit} bytes; split it into smaller requests`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
