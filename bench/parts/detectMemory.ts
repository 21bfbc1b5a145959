import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createWorld } from '../../src/demo/world.js';
import { Engine } from '../../src/detect/engine.js';
import { loadRules } from '../../src/detect/rules.js';
import { normalise } from '../../src/events/normalise.js';
import { peakRssMiB, round } from '../measure.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * (c) in a child process of its own, so its peak RSS is the engine's: a world of `tokens`
 * credentials (each issued, then used a few times) streamed through the engine. A second
 * child streams the same world without the engine: the generator's own share of the peak.
 */
export async function detectMemory(tokens: number): Promise<Record<string, unknown>> {
  const lean = await child(tokens, true, true);
  const withEngine = await child(tokens, true);
  const generatorOnly = await child(tokens, false);
  return {
    lean_stream: lean,
    tokens_tracked: withEngine.tracked,
    events: withEngine.events,
    peak_rss_mib: withEngine.peak_rss_mib,
    heap_used_mib_after_gc: withEngine.heap_mib,
    generator_only_peak_rss_mib: generatorOnly.peak_rss_mib,
    generator_only_heap_used_mib_after_gc: generatorOnly.heap_mib,
    engine_share_rss_mib: round(
      (withEngine.peak_rss_mib as number) - (generatorOnly.peak_rss_mib as number),
      1,
    ),
    engine_share_heap_mib: round((withEngine.heap_mib as number) - (generatorOnly.heap_mib as number), 1),
    note: 'peak RSS of the child that generates the world and runs the engine; the generator-only child shows what of it is not the engine',
  };
}

function child(tokens: number, engine: boolean, lean = false): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const args = [
      '--expose-gc',
      '--import',
      'tsx',
      'bench/detect.ts',
      '--child',
      'memory',
      '--tokens',
      String(tokens),
    ];
    if (!engine) args.push('--no-engine');
    if (lean) args.push('--lean');
    const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`memory child exited ${code}`)),
    );
  });
}

/**
 * The engine alone on a stream that costs no memory to make: each token issued, then used
 * twice from its own network, spread over a day. Its peak RSS is the engine's with 1M tokens.
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
        request_scope: issued ? '' : 'projects:read',
        request_action: issued ? '' : 'read',
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
    `${JSON.stringify({ events, tracked: engine.stats().tokens, peak_rss_mib: peakRssMiB(), heap_mib: round(process.memoryUsage().heapUsed / 2 ** 20, 1) })}\n`,
  );
}

const SCOPES = ['projects:read', 'projects:write'];
const CIDRS = ['10.0.0.0/8'];

/** The child's body: prints one JSON object. */
export async function memoryChild(tokens: number, engineOn: boolean): Promise<void> {
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
  const engine = engineOn
    ? new Engine({
        rules: await loadRules(`${ROOT}rules`),
        logger: pino({ level: 'warn' }),
        onAlert: () => {},
      })
    : null;
  let events = 0;
  for (const e of world.events()) {
    const row = normalise(e, '');
    engine?.process(row);
    events++;
  }
  engine?.flush();
  gc();
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  const out = {
    events,
    tracked: engine?.stats().tokens ?? 0,
    peak_rss_mib: peakRssMiB(),
    heap_mib: round(heap, 1),
  };
  // Keep both alive until measured: a collected engine would understate its heap.
  if (engine && world.tokens.length < 0) process.stderr.write('unreachable');
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
