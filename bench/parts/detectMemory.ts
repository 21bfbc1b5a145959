import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createWorld } from '../../src/demo/world.js';
import { Engine } from '../../src/detect/engine.js';
import { loadRules } from '../../src/detect/rules.js';
import { normalise } from '../../src/events/normalise.js';
import { peakRssMiB, round } from '../measure.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * (c) peak memory of the process that tracks `tokens` tokens, each in a child of its own:
 * - `lean_stream`: the engine on a synthetic stream made on the fly (each token issued, then
 *   used twice); nothing but the engine holds memory.
 * - the engine on the generated world: the world (src/demo, ~1.5 GiB of model for 1M
 *   credentials) runs in a generator child and reaches the engine child as NDJSON over a pipe,
 *   as events reach `choir serve` from Kafka; the engine child's peak RSS is the figure.
 * - `generator_only`: the generator child's own figures (not part of the engine's).
 */
export async function detectMemory(tokens: number): Promise<Record<string, unknown>> {
  const lean = await child(['--lean'], tokens);
  const [generator, engine] = await piped(tokens);
  return {
    lean_stream: lean,
    tokens_tracked: engine.tracked,
    events: engine.events,
    peak_rss_mib: engine.peak_rss_mib,
    heap_used_mib_after_gc: engine.heap_mib,
    generator_only_peak_rss_mib: generator.peak_rss_mib,
    generator_only_heap_used_mib_after_gc: generator.heap_mib,
    note: 'peak_rss_mib: the engine child fed the generated world over a pipe; the generator runs in a child of its own (generator_only_*)',
  };
}

function spawnChild(extra: string[], tokens: number, stdin: 'ignore' | 'pipe'): ChildProcess {
  const args = ['--expose-gc', '--import', 'tsx', 'bench/detect.ts', '--child', 'memory'];
  args.push('--tokens', String(tokens), ...extra);
  return spawn(process.execPath, args, { cwd: ROOT, stdio: [stdin, 'pipe', 'inherit'] });
}

/** The child's one JSON line (its last line of stdout). */
function result(p: ChildProcess): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) reject(new Error(`memory child exited ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) as string));
    });
  });
}

function child(extra: string[], tokens: number): Promise<Record<string, number>> {
  return result(spawnChild(extra, tokens, 'ignore'));
}

/** Generator child piped into engine child; resolves with both children's figures. */
async function piped(tokens: number): Promise<[Record<string, number>, Record<string, number>]> {
  const generator = spawnChild(['--generate'], tokens, 'ignore');
  const engine = spawnChild(['--from-stdin'], tokens, 'pipe');
  const input = engine.stdin as NodeJS.WritableStream;
  const output = generator.stdout as NodeJS.ReadableStream;
  const engineDone = result(engine);
  // The generator's last line is its report, not an event: the last complete line waits for more.
  const generatorDone = new Promise<Record<string, number>>((resolve, reject) => {
    let held: Buffer = Buffer.alloc(0);
    output.on('data', (d: Buffer) => {
      const data = held.length === 0 ? d : Buffer.concat([held, d]);
      const cut = data.lastIndexOf(10, data.length - 2);
      held = cut < 0 ? data : data.subarray(cut + 1);
      if (cut >= 0 && !input.write(data.subarray(0, cut + 1))) {
        output.pause();
        input.once('drain', () => output.resume());
      }
    });
    generator.on('error', reject);
    generator.on('exit', (code) => {
      input.end();
      if (code !== 0) reject(new Error(`generator child exited ${code}`));
      else resolve(JSON.parse(held.toString().trim()));
    });
  });
  return [await generatorDone, await engineDone];
}

/**
 * The engine alone on a stream that costs no memory to make: each token issued, then used
 * twice from its own network, spread over a day, as granted (push-only tokens push): uses that
 * alert nothing, since the point is tracked tokens. Its peak RSS is the engine's with 1M tokens.
 */
export async function leanMemoryChild(tokens: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const engine = new Engine({
    rules: await loadRules(`${ROOT}rules`),
    logger: pino({ level: 'warn' }),
    onAlert: () => {},
  });
  const start = Date.UTC(2026, 0, 5);
  const step = 86_400_000 / (3 * tokens);
  let events = 0;
  for (let round = 0; round < 3; round++) {
    for (let t = 0; t < tokens; t++) {
      const time = Math.floor(start + (round * tokens + t) * step);
      const issued = round === 0;
      engine.process({
        id: `e${events++}`,
        type: issued ? 'token.issued' : 'token.used',
        time,
        token_id: `tok-${t}`,
        token_kind: issued ? (t % 5 === 0 ? 'push_only' : 'service_account') : '',
        principal: issued ? `sa-${t % 20_000}` : '',
        scopes: issued ? SCOPES : [],
        expires_at: issued ? start + 90 * 86_400_000 : null,
        allowed_cidrs: issued && t % 10 === 0 ? CIDRS : [],
        replaces: '',
        request_scope: issued ? '' : t % 5 === 0 ? 'projects:write' : 'projects:read',
        request_action: issued ? '' : t % 5 === 0 ? 'push' : 'read',
        request_resource: '',
        request_method: issued ? '' : 'GET',
        request_path: issued ? '' : '/v1/projects',
        source_ip: issued ? '' : `10.${(t >> 16) & 255}.${(t >> 8) & 255}.${t & 255}`,
        user_agent: issued ? '' : 'svc/1.0',
        status: issued ? 0 : 200,
        reason: '',
        actor: '',
        tenant: 'acme',
        source: 'bench',
        attributes: {},
        raw: '',
      });
    }
  }
  engine.flush();
  gc();
  process.stdout.write(
    `${JSON.stringify({ events, tracked: engine.stats().tokens, alerts: engine.stats().alerts, peak_rss_mib: peakRssMiB(), heap_mib: round(process.memoryUsage().heapUsed / 2 ** 20, 1) })}\n`,
  );
}

const SCOPES = ['projects:read', 'projects:write'];
const CIDRS = ['10.0.0.0/8'];

/** Generator child: the world as NDJSON on stdout, then its own figures as the last line. */
export async function generatorChild(tokens: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const start = Date.UTC(2026, 0, 5);
  // About three uses per token and no crons: the point is many tokens, not many events.
  const world = createWorld({
    seed: 11,
    start,
    days: 1,
    tokens,
    eventsPerDay: tokens,
    maxPeak: 60,
    minPeak: 0.0005,
    cronShare: 0,
  });
  let batch = '';
  for (const e of world.events()) {
    batch += `${JSON.stringify(e)}\n`;
    if (batch.length > 1 << 16) {
      if (!process.stdout.write(batch)) await once(process.stdout, 'drain');
      batch = '';
    }
  }
  gc();
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  // Keep the world alive until measured.
  const out = { tokens: world.tokens.length, peak_rss_mib: peakRssMiB(), heap_mib: round(heap, 1) };
  process.stdout.write(`${batch}${JSON.stringify(out)}\n`);
}

/** Engine child: NDJSON events from stdin through the engine; prints one JSON object. */
export async function engineChild(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const engine = new Engine({
    rules: await loadRules(`${ROOT}rules`),
    logger: pino({ level: 'warn' }),
    onAlert: () => {},
  });
  let events = 0;
  let tail = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) {
    const lines = (tail + (chunk as string)).split('\n');
    tail = lines.pop() as string;
    for (const line of lines) {
      engine.process(normalise(JSON.parse(line), ''));
      events++;
    }
  }
  engine.flush();
  gc();
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  const out = {
    events,
    tracked: engine.stats().tokens,
    alerts: engine.stats().alerts,
    peak_rss_mib: peakRssMiB(),
    heap_mib: round(heap, 1),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
