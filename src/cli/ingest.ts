import { createReadStream, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { ChoirError } from '../errors.js';
import { getAdapter } from '../events/adapters/index.js';
import { createBatcher, createDecoders, openStore } from '../index.js';
import { type FileSummary, ingestStream } from '../ingest/fileSource.js';
import { cliContext } from './context.js';
import type { CliArgs } from './main.js';

export async function ingestCommand(args: CliArgs): Promise<number> {
  const file = args.positionals[0];
  if (!file) {
    process.stderr.write('usage: choir ingest FILE|- [--format choir|k8s-audit|vault|cloudtrail|github]\n');
    return 2;
  }
  const { config, logger } = cliContext(args);
  const decode = createDecoders(config)(args.format);
  if (!decode) throw new ChoirError('INPUT_INVALID', `unknown --format "${args.format}"`);
  const total = file === '-' ? 0 : statSync(file).size;
  let bytes = 0;
  const bar = process.stdout.isTTY && !args.json ? progressBar(() => (total ? bytes / total : null)) : null;

  const store = await openStore(config, logger);
  const batcher = createBatcher(config, store, logger);
  // Opened only now: a stream opened before the awaits above would start flowing with no reader.
  const input: Readable =
    file === '-' ? process.stdin : (wholeDocument(file, args.format, total) ?? createReadStream(file));
  input.on('data', (c: Buffer | string) => {
    bytes += c.length;
  });
  let summary: FileSummary;
  try {
    summary = await ingestStream({
      input,
      source: file === '-' ? 'stdin' : `file:${basename(file)}`,
      decode,
      batcher,
      onProgress: bar ?? undefined,
    });
  } finally {
    await batcher.close();
    await store.close();
  }
  if (bar) process.stdout.write('\n');
  if (args.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      `read ${summary.read}, stored ${summary.stored}, already stored ${summary.duplicates}, ` +
        `dead-lettered ${summary.deadLettered}, ignored ${summary.ignored}\n`,
    );
    const top = Object.entries(summary.reasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5);
    for (const [reason, n] of top) process.stdout.write(`  ${n} × ${reason}\n`);
  }
  return 0;
}

/**
 * Audit logs often come as one JSON document (a pretty-printed CloudTrail `{"Records": [...]}` file,
 * a Kubernetes EventList, an array) rather than NDJSON: such a file is split into its records,
 * one per line, so each is counted and dead-lettered on its own.
 */
export function wholeDocument(file: string, format: string, size: number): Readable | null {
  if (format === 'choir' || size > 256 * 1024 * 1024) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null; // not one document: read it as NDJSON
  }
  const records = Array.isArray(doc) ? doc : (getAdapter(format).unwrap?.(doc) ?? [doc]);
  return Readable.from([records.map((r) => JSON.stringify(r)).join('\n')]);
}

function progressBar(fraction: () => number | null): (s: FileSummary) => void {
  const started = Date.now();
  return (s) => {
    const f = fraction();
    const width = 30;
    const done = f === null ? 0 : Math.round(Math.min(1, f) * width);
    const bar = f === null ? '' : `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${Math.round(f * 100)}% `;
    const rate = Math.round(s.read / Math.max(0.001, (Date.now() - started) / 1000));
    process.stdout.write(
      `\r${bar}read ${s.read}  stored ${s.stored}  dead-lettered ${s.deadLettered}  ${rate}/s   `,
    );
  };
}
