/**
 * Stream-engine throughput on a synthetic stream with every shipped rule on.
 * Usage: node --expose-gc --import tsx bench/detect-engine.ts [events=1000000] [tokens=10000]
 * Runs the stream twice on fresh engines (the first run includes JIT warm-up) and prints one
 * JSON object; not a pass/fail test.
 */
import pino from 'pino';
import { Engine } from '../src/detect/engine.js';
import { loadRules } from '../src/detect/rules.js';
import type { StoredEvent } from '../src/events/contract.js';
import { eventRow } from '../test/support/generate.js';

const events = Number(process.argv[2] ?? 1_000_000);
const tokenCount = Number(process.argv[3] ?? 10_000);
const start = Date.parse('2024-01-01T00:00:00Z');
const span = 2 * 3_600_000;

function event(i: number, partial: Partial<StoredEvent>): StoredEvent {
  return eventRow({
    id: `e${i}`,
    time: start,
    token_id: '',
    request_method: 'GET',
    request_path: '/v1/items',
    user_agent: 'svc/1.0',
    tenant: 'acme',
    source: 'gateway',
    raw: '',
    ...partial,
  });
}

const stream: StoredEvent[] = [];
for (let t = 0; t < tokenCount; t++) {
  stream.push(
    event(stream.length, {
      type: 'token.issued',
      token_id: `tok-${t}`,
      token_kind: t % 20 === 0 ? 'push_only' : 'service_account',
      principal: `sa-${t % 500}`,
      scopes: t % 3 === 0 ? ['projects:*'] : ['projects:read', 'items:read'],
      allowed_cidrs: t % 10 === 0 ? ['10.0.0.0/8'] : [],
      expires_at: start + 30 * 86_400_000,
    }),
  );
}
// Deterministic pseudo-random stream: xorshift.
let seed = 42;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
for (let i = 0; i < events; i++) {
  const t = Math.floor(rand() * tokenCount);
  const anomaly = rand() < 0.0005;
  stream.push(
    event(stream.length, {
      time: start + Math.floor((i / events) * span),
      token_id: anomaly && rand() < 0.3 ? `ghost-${i}` : `tok-${t}`,
      request_scope: anomaly ? 'admin:write' : t % 20 === 0 ? 'projects:push' : 'projects:read',
      request_action: t % 20 === 0 ? 'push' : 'read',
      source_ip: anomaly ? `203.0.${i % 250}.${t % 250}` : `10.${t % 250}.${(t >> 8) % 4}.${(i % 7) + 1}`,
    }),
  );
}

const rules = await loadRules('rules');
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function run(): { seconds: number; alerts: number; heapMb: number; engine: Engine } {
  let alerts = 0;
  const engine = new Engine({ rules, logger: pino({ level: 'warn' }), onAlert: () => void alerts++ });
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const began = process.hrtime.bigint();
  for (const ev of stream) engine.process(ev);
  engine.flush();
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  gc();
  return { seconds, alerts, heapMb: (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20, engine };
}

const cold = run();
const warm = run();
console.log(
  JSON.stringify({
    events: stream.length,
    tokens: tokenCount,
    rules: rules.rules.filter((r) => r.enabled).length,
    cold_events_per_second: Math.round(stream.length / cold.seconds),
    warm_events_per_second: Math.round(stream.length / warm.seconds),
    warm_seconds: Number(warm.seconds.toFixed(3)),
    alert_emissions: warm.alerts,
    retained_state_mb: Math.round(warm.heapMb),
    stats: warm.engine.stats(),
  }),
);
