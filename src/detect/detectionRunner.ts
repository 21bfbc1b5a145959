import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { StoredEvent } from '../events/contract.js';
import type { Alert } from './alert.js';
import type { AlertSaver } from './alertSaver.js';
import { Engine, type EngineOptions } from './engine.js';
import { ReorderBuffer } from './reorderBuffer.js';
import type { RuleSet } from './rules.js';
import type { TokenFacts } from './tokenRecord.js';

/** SQL detectors over the store (stale, rotation, orphans…), run at a point of event time. */
export interface ScheduledDetectors {
  run(asOfMs: number): Promise<Alert[]>;
}

/** Builds the scheduled detectors of a rule set (again after every reload). */
export type ScheduledFactory = (rules: RuleSet) => ScheduledDetectors;

export interface DetectionRunnerOptions {
  rules: RuleSet;
  logger: Logger;
  saver: AlertSaver;
  /** How long (event time) to wait for events from slower partitions before feeding the engine. */
  allowedLatenessMs: number;
  scheduled?: ScheduledFactory | null;
  /** Scheduled detectors run at every multiple of this in event time. Default one hour. */
  scheduleEveryMs?: number;
  /** Engine tuning (maxTokens, maxOpenAlerts, lookupToken). */
  engine?: Pick<EngineOptions, 'maxTokens' | 'maxOpenAlerts' | 'lookupToken'>;
}

const HOUR = 3_600_000;

/**
 * Live and replayed detection are this one object: stored events go through a reorder buffer
 * into the engine in (time, id) order, the engine's alerts go to the saver, and scheduled
 * detectors run each time the watermark passes a whole hour of event time. The sequence the
 * engine sees, and the hours at which scheduled detectors run, depend only on the events —
 * not on how they were batched or interleaved — so `choir replay` of a log gives the alerts
 * that live ingestion gave.
 */
export class DetectionRunner {
  readonly engine: Engine;
  private readonly buffer: ReorderBuffer<StoredEvent>;
  private readonly log: Logger;
  private readonly every: number;
  private scheduled: ScheduledDetectors | null;
  /** Event time the scheduled detectors last ran at (or start from); null before any event. */
  private scheduledAsOf: number | null = null;
  private scheduledRuns: Promise<void> = Promise.resolve();
  private maxFed = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: DetectionRunnerOptions) {
    this.log = options.logger.child({ module: 'detection' });
    this.every = options.scheduleEveryMs ?? HOUR;
    this.buffer = new ReorderBuffer(options.allowedLatenessMs);
    this.scheduled = options.scheduled?.(options.rules) ?? null;
    this.engine = new Engine({
      ...options.engine,
      rules: options.rules,
      logger: options.logger,
      // The buffer already waited for late events: the engine's watermark is the buffer's.
      allowedLateness: 0,
      onAlert: (alert, change) => options.saver.add(alert, change),
    });
  }

  /** Events just stored (the Batcher's `onStored`). Never throws into the ingest path. */
  onStored(events: readonly StoredEvent[]): void {
    try {
      this.feed(this.buffer.push(events));
      this.schedule(this.buffer.watermark, false);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'detection failed on a batch; continuing');
    }
    void this.options.saver.flush();
  }

  /** An event of stored history (rebuild after a restart): learned without alerting. */
  learn(ev: StoredEvent): void {
    this.engine.learn(ev);
    this.buffer.advanceTo(ev.time);
    if (ev.time > this.maxFed) this.maxFed = ev.time;
    // The previous run had its scheduled detectors run up to its last event.
    this.scheduledAsOf = Math.max(this.scheduledAsOf ?? ev.time, ev.time);
  }

  /** A token issued before the history learned (see Engine.seedToken). */
  seedToken(facts: TokenFacts): void {
    this.engine.seedToken(facts);
  }

  /** Swap rules, keeping state; throws (RuleLoadError) before changing anything when they do not compile. */
  setRules(rules: RuleSet): void {
    const scheduled = this.options.scheduled?.(rules) ?? null;
    this.engine.setRules(rules);
    this.scheduled = scheduled;
  }

  /**
   * End of input (end of a replay, or shutdown): release what the buffer holds, fire every
   * pending timer, run scheduled detectors up to the last event, and wait until every alert is
   * stored. Replay and a live run that stops after the same events end in the same alerts.
   */
  async finish(): Promise<void> {
    try {
      this.feed(this.buffer.drain());
      this.engine.flush();
      if (Number.isFinite(this.maxFed)) this.schedule(this.maxFed, true);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'detection failed while finishing');
    }
    await this.scheduledRuns;
    await this.options.saver.flush();
    const stats = this.engine.stats();
    this.log.info(
      { ...stats, buffered_late: this.buffer.late, saved: this.options.saver.saved },
      'detection finished',
    );
  }

  private feed(events: readonly StoredEvent[]): void {
    for (const ev of events) {
      // Scheduled runs count from the first event the engine sees, identical live and on replay.
      this.scheduledAsOf ??= Math.floor(ev.time / this.every) * this.every;
      if (ev.time > this.maxFed) this.maxFed = ev.time;
      this.engine.process(ev);
    }
  }

  /** Run scheduled detectors at every whole `every` the watermark has passed; at the end, at its value. */
  private schedule(watermark: number, final: boolean): void {
    if (this.scheduled === null || this.scheduledAsOf === null) return;
    // Strictly past: an event at the boundary itself may still be on its way.
    for (
      let at = (Math.floor(this.scheduledAsOf / this.every) + 1) * this.every;
      at < watermark;
      at += this.every
    ) {
      this.runScheduled(this.scheduled, at);
    }
    if (final && watermark > this.scheduledAsOf) this.runScheduled(this.scheduled, watermark);
  }

  private runScheduled(detectors: ScheduledDetectors, asOf: number): void {
    this.scheduledAsOf = asOf;
    const saver = this.options.saver;
    this.scheduledRuns = this.scheduledRuns.then(async () => {
      try {
        saver.addWhole(await detectors.run(asOf));
        await saver.flush();
      } catch (err) {
        // The next run covers the same tokens again; their alert ids are deterministic.
        this.log.warn(
          { err: errorMessage(err), as_of: new Date(asOf).toISOString() },
          'scheduled detectors failed',
        );
      }
    });
  }
}
