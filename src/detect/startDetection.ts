import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { StoredEvent } from '../events/contract.js';
import type { PendingTimes, StoredBatch } from '../ingest/batcher.js';
import { createAlertStore } from '../store/alertStore.js';
import { eventTimeRange } from '../store/eventQueries.js';
import type { Store } from '../store/store.js';
import { AlertSaver } from './alertSaver.js';
import { DetectionRunner, type ScheduledFactory } from './detectionRunner.js';
import { rebuildDetection } from './rebuildDetection.js';
import { loadRules } from './rules.js';
import { createScheduledDetectors } from './scheduled/index.js';
import { type RuleWatcher, watchRules } from './watchRules.js';

export interface Detection {
  readonly runner: DetectionRunner;
  /** Hand to the Batcher as `onStored`: every newly stored event batch, with what it tells (StoredBatch). */
  onStored(events: readonly StoredEvent[], batch: StoredBatch): void;
  /** Hand to the Batcher as `onAccepted`: times of what it accepted and has not stored yet. */
  onAccepted(pending: PendingTimes): void;
  /** Stop watching rules and finish (see DetectionRunner.finish): every alert stored. */
  stop(): Promise<void>;
}

export interface StartDetectionOptions {
  config: Config;
  store: Store;
  logger: Logger;
  /** Learn the stored history first (live serving); a replay's fresh store has none. */
  rebuild: boolean;
  /** Reload rules when their files change (live serving). */
  watch: boolean;
}

/** The SQL detectors (stale, never used, rotation, expiry, orphans), rebuilt for every rule set. */
function scheduledDetectors(store: Store, logger: Logger): ScheduledFactory {
  return (rules) => createScheduledDetectors({ store, rules, logger });
}

/**
 * Detection as `choir serve` and `choir replay` run it: rules from `detect.rules_dir` (a broken
 * file refuses to start, RuleLoadError names file, rule and reason), alerts to the alert store.
 */
export async function startDetection(options: StartDetectionOptions): Promise<Detection> {
  const { config, store, logger } = options;
  const rules = await loadRules(config.detect.rules_dir, { logger });
  // Every save is a link of this writer's chain in alert_log: the same writer id and key as its events.
  const alerts = createAlertStore(store, {
    chain: { chainId: config.storage.writer_id, key: config.security.chain_key, logger },
  });
  const saver = new AlertSaver({ alerts, logger });
  const runner = new DetectionRunner({
    rules,
    logger,
    saver,
    allowedLatenessMs: config.detect.allowed_lateness_ms,
    sourceIdleMs: config.detect.source_idle_ms,
    scheduled: scheduledDetectors(store, logger),
    scheduleEveryMs: config.detect.scheduled_every_ms,
    earlyAlerts: config.detect.early_alerts,
  });
  // Embedded, this process owns the store: alerts of windows after its last event cannot be
  // stored yet, so their first save needs no read. A server may have other instances writing.
  if (config.storage.clickhouse_url === null) {
    const range = await eventTimeRange(store);
    saver.setStoredUntil(range?.last ?? Number.NEGATIVE_INFINITY);
  }
  if (options.rebuild) {
    const checkpoint = await alerts.checkpoint();
    await rebuildDetection({
      store,
      runner,
      saver,
      checkpoint,
      writerId: config.storage.writer_id,
      days: config.detect.rebuild_days,
      logger,
    });
  }
  let watcher: RuleWatcher | null = null;
  if (options.watch) {
    // A broken edit is logged by watchRules and the rules in force stay.
    watcher = watchRules(config.detect.rules_dir, (next) => runner.setRules(next), { logger });
  }
  return {
    runner,
    onStored: (events, batch) => runner.onStored(events, batch),
    onAccepted: (pending) => runner.onAccepted(pending),
    async stop() {
      watcher?.close();
      await runner.finish();
    },
  };
}
