import type { Logger } from 'pino';
import { eventTimeRange, readEvents, readIssuedTokens } from '../store/eventQueries.js';
import type { Store } from '../store/store.js';
import type { DetectionRunner } from './detectionRunner.js';

const DAY = 86_400_000;

export interface RebuildSummary {
  /** Events learned, and tokens seeded from issuances older than the window. */
  events: number;
  tokens: number;
  /** Event-time window learned (epoch ms); null when the log is empty. */
  from: number | null;
  to: number | null;
}

/**
 * Rebuild detector state from the log, so a restarted instance knows the sources, baselines
 * and tokens the previous one knew and does not alert on them again. The window is the last
 * `days` of event time before the latest stored event (never the wall clock); tokens issued
 * before it are seeded with their issuance facts, principals disabled before it are learned.
 * Events are learned silently, in (time, id) order, a page at a time.
 */
export async function rebuildDetection(options: {
  store: Store;
  runner: DetectionRunner;
  days: number;
  logger: Logger;
  pageRows?: number;
}): Promise<RebuildSummary> {
  const { store, runner, pageRows } = options;
  const log = options.logger.child({ module: 'rebuild' });
  const range = options.days > 0 ? await eventTimeRange(store) : null;
  if (range === null) return { events: 0, tokens: 0, from: null, to: null };
  const started = performance.now();
  const from = Math.max(range.first, range.last - options.days * DAY);
  let tokens = 0;
  let events = 0;
  if (from > range.first) {
    for await (const page of readIssuedTokens(store, { before: from, pageRows })) {
      for (const facts of page) runner.seedToken(facts);
      tokens += page.length;
    }
    const old = { from: range.first, to: from - 1, types: ['principal.disabled'] as const, pageRows };
    for await (const page of readEvents(store, old)) {
      for (const ev of page) runner.learn(ev);
      events += page.length;
    }
  }
  for await (const page of readEvents(store, { from, to: range.last, pageRows })) {
    for (const ev of page) runner.learn(ev);
    events += page.length;
  }
  log.info(
    {
      events,
      tokens,
      from: new Date(from).toISOString(),
      to: new Date(range.last).toISOString(),
      ms: Math.round(performance.now() - started),
    },
    'detector state rebuilt from the log',
  );
  return { events, tokens, from, to: range.last };
}
