import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { StoredEvent } from '../events/contract.js';
import type { PendingTimes, StoredBatch } from '../ingest/batcher.js';
import type { EventRow } from '../store/store.js';
import type { Alert } from './alert.js';
import type { AlertSaver } from './alertSaver.js';
import { Engine, type EngineOptions } from './engine.js';
import { byTimeThenId, ReorderBuffer, sourceKey } from './reorderBuffer.js';
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
  /**
   * How late (event time) an event may arrive within its source (a Kafka partition) and still be
   * in order; sources are waited for each at its own pace (see ReorderBuffer).
   */
  allowedLatenessMs: number;
  /** Wall-clock silence after which a source stops holding detection back (ReorderBuffer idleMs). */
  sourceIdleMs?: number;
  /** Events the reorder buffer holds at most. */
  maxHeld?: number;
  /** Wall clock, for source silence only. */
  now?: () => number;
  scheduled?: ScheduledFactory | null;
  /**
   * Scheduled detectors run at the end of every step of this length (event time) that holds
   * events, once, however far the next event jumps. Default one day.
   */
  scheduleEveryMs?: number;
  /**
   * Save matches of order-free rules as soon as their event is stored, before the reorder buffer
   * releases it (Engine.early). Default true.
   */
  earlyAlerts?: boolean;
  /** Engine tuning (maxTokens, maxOpenAlerts, lookupToken). */
  engine?: Pick<EngineOptions, 'maxTokens' | 'maxOpenAlerts' | 'lookupToken'>;
}

const DAY = 86_400_000;

/** The source of a stored event as the Kafka source reports its progress: `kafka:<topic>#<partition>`. */
function sourceOf(ev: StoredEvent): string | undefined {
  const row = ev as Partial<EventRow>;
  return row.ingest_source === undefined
    ? undefined
    : sourceKey(row.ingest_source, row.ingest_partition ?? 0);
}

/**
 * Live and replayed detection are this one object: stored events go through a reorder buffer
 * into the engine in (time, id) order, the engine's alerts go to the saver, and scheduled
 * detectors run when the watermark passes the end of a step (default a day) of event time that
 * held events. The sequence the engine sees, and the steps at which scheduled detectors run,
 * depend only on the events —
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
  /** End of the step of the latest event fed, not yet run; null when there is none. */
  private stepEnd: number | null = null;
  private scheduledRuns: Promise<void> = Promise.resolve();
  private maxFed = Number.NEGATIVE_INFINITY;
  /** Stored batches whose event-time pass is still to run (see onStored), and its scheduled turn. */
  private queued: { events: readonly StoredEvent[]; batch: StoredBatch }[] = [];
  /** While events are held: a look now and then at sources gone silent (see ReorderBuffer.release). */
  private idleTimer: NodeJS.Timeout | null = null;
  private pass: NodeJS.Immediate | null = null;
  /** The latest times the batcher told of (onAccepted), and the pass that takes them. */
  private accepted: PendingTimes | null = null;
  private acceptedPass: NodeJS.Immediate | null = null;
  /** Latest event fed, in (time, id) order: the checkpoint the next save carries. */
  private lastFed: StoredEvent | null = null;
  /**
   * The writer's chain (Store.insertEvents) up to this link is through the reorder buffer: each
   * of its events was fed, or is held, and then it is after `lastFed`. The checkpoint carries it.
   */
  private storedSeq: number | null = null;
  /** Restoring (see `restore`): the engine's alerts were saved by the run before, not again. */
  private restoring = false;
  private rules: RuleSet;

  constructor(private readonly options: DetectionRunnerOptions) {
    this.log = options.logger.child({ module: 'detection' });
    this.every = options.scheduleEveryMs ?? DAY;
    this.rules = options.rules;
    this.buffer = new ReorderBuffer<StoredEvent>({
      lateness: options.allowedLatenessMs,
      idleMs: options.sourceIdleMs,
      maxHeld: options.maxHeld,
      now: options.now,
      logger: this.log,
      sourceOf,
    });
    this.scheduled = options.scheduled?.(options.rules) ?? null;
    this.engine = new Engine({
      ...options.engine,
      rules: options.rules,
      logger: options.logger,
      // The buffer already waited for late events: the engine's watermark is the buffer's.
      allowedLateness: 0,
      onAlert: (alert, change, windowStart) => {
        if (!this.restoring) options.saver.add(alert, change, windowStart);
      },
      ...(options.earlyAlerts === false
        ? {}
        : {
            onEarlyAlert: (alert, windowStart) => options.saver.addEarly(alert, windowStart),
            onWithdraw: (alert) => options.saver.withdraw(alert),
          }),
    });
  }

  /**
   * Events just stored (the Batcher's `onStored`). Never throws into the ingest path.
   * Order-free rules alert at once and their alerts leave; the event-time pass over what the
   * reorder buffer releases runs on the next turn of the event loop, so that the early alerts'
   * insert is already under way in ClickHouse while the engine works (it used to wait for the
   * whole batch's pass). Batches still go through in order: a batch's pass runs before the next
   * batch, a rule swap or the end of input touches anything, so what the engine sees is unchanged.
   */
  onStored(events: readonly StoredEvent[], batch: StoredBatch = { progress: [] }): void {
    this.catchUp();
    try {
      // Order-free rules alert now; the rest waits for the buffer (and confirms these).
      for (const ev of events) this.engine.early(ev);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'early detection failed on a batch; continuing');
    }
    void this.options.saver.flush();
    this.queued.push({ events, batch });
    this.pass ??= setImmediate(() => this.catchUp());
  }

  /** Resolves once every stored batch went through the engine and the alerts so far are stored. */
  async settled(): Promise<void> {
    this.catchUp();
    await this.options.saver.flush();
  }

  /** The event-time pass over the batches stored and not yet fed, oldest first. */
  private catchUp(): void {
    if (this.pass !== null) clearImmediate(this.pass);
    this.pass = null;
    if (this.queued.length === 0) return;
    const batches = this.queued;
    this.queued = [];
    for (const { events, batch } of batches) {
      try {
        this.feed(this.buffer.push(events, batch.progress, batch.pending));
        this.schedule(this.buffer.watermark, false);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'detection failed on a batch; continuing');
      }
      if (batch.storedSeq !== undefined) this.storedSeq = batch.storedSeq;
    }
    this.checkpoint();
    void this.options.saver.flush();
    this.watchIdle();
  }

  /**
   * The batcher accepted events it has not stored yet (Batcher onAccepted): the watermark may move
   * on, releasing stored events before the next batch is stored (see ReorderBuffer.accepted).
   */
  onAccepted(pending: PendingTimes): void {
    this.accepted = pending;
    this.acceptedPass ??= setImmediate(() => {
      this.acceptedPass = null;
      const latest = this.accepted;
      if (latest !== null) this.releasePass(() => this.buffer.accepted(latest));
    });
  }

  /** While events are held, release what sources gone silent no longer hold back. */
  private watchIdle(): void {
    if (this.idleTimer !== null || this.buffer.size === 0) return;
    const every = Math.max(100, Math.min(1_000, (this.options.sourceIdleMs ?? 10_000) / 4));
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.releasePass(() => this.buffer.release());
    }, every);
    this.idleTimer.unref();
  }

  /** Stored batches first, then what `release` gives; then checkpoint and save. */
  private releasePass(release: () => StoredEvent[]): void {
    this.catchUp();
    try {
      this.feed(release());
      this.schedule(this.buffer.watermark, false);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'detection failed on released events; continuing');
    }
    this.checkpoint();
    void this.options.saver.flush();
    this.watchIdle();
  }

  /** Every alert of the events fed so far is with the saver: its next save may record that. */
  private checkpoint(): void {
    if (this.lastFed !== null)
      this.options.saver.checkpoint({
        time: this.lastFed.time,
        id: this.lastFed.id,
        storedSeq: this.storedSeq,
      });
  }

  /** After a rebuild: every event the writer's chain holds up to `seq` went through it. */
  storedThrough(seq: number): void {
    this.storedSeq = seq;
  }

  /** The longest dedup window of the rules in force: how far back an open alert window may start. */
  get maxDedupWindow(): number {
    return Math.max(0, ...this.rules.rules.map((r) => r.dedupWindow));
  }

  /** An event of stored history (rebuild after a restart): learned without alerting. */
  learn(ev: StoredEvent): void {
    this.catchUp();
    this.engine.learn(ev);
    this.learned(ev);
  }

  /**
   * An event of stored history whose alerts the run before saved (rebuild after a restart, up to
   * the checkpoint): processed as live, so open alert windows and their repeats not saved yet are
   * rebuilt exactly, but what it raises is not saved again.
   */
  restore(ev: StoredEvent): void {
    this.catchUp();
    this.restoring = true;
    try {
      this.engine.process(ev);
    } finally {
      this.restoring = false;
    }
    this.learned(ev);
  }

  private learned(ev: StoredEvent): void {
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
    // Batches stored before the swap go through under the rules in force when they were stored.
    this.catchUp();
    this.engine.setRules(rules);
    this.rules = rules;
    this.scheduled = scheduled;
  }

  /**
   * End of input (end of a replay, or shutdown): release what the buffer holds, fire every
   * pending timer, run scheduled detectors up to the last event, and wait until every alert is
   * stored. Replay and a live run that stops after the same events end in the same alerts.
   */
  async finish(): Promise<void> {
    this.catchUp();
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.acceptedPass !== null) clearImmediate(this.acceptedPass);
    this.acceptedPass = null;
    try {
      this.feed(this.buffer.drain());
      this.engine.flush();
      this.checkpoint();
      if (Number.isFinite(this.maxFed)) this.schedule(this.maxFed, true);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'detection failed while finishing');
    }
    await this.scheduledRuns;
    await this.options.saver.flush();
    const stats = this.engine.stats();
    this.log.info(
      {
        ...stats,
        buffered_late: this.buffer.late,
        buffered_peak: this.buffer.peak,
        saved: this.options.saver.saved,
      },
      'detection finished',
    );
  }

  private feed(events: readonly StoredEvent[]): void {
    for (const ev of events) {
      if (ev.time > this.maxFed) this.maxFed = ev.time;
      this.engine.process(ev);
      this.stepOf(ev.time);
      // A late event (behind the watermark) does not move the checkpoint back: see the README.
      if (this.lastFed === null || byTimeThenId(ev, this.lastFed) > 0) this.lastFed = ev;
    }
  }

  /**
   * Steps come from the events fed, in their (time, id) order, so live and replay run the same
   * ones. An event of a later step closes the open step: its end is behind this event, which the
   * watermark passed, so every event before that end is stored. Steps without events are skipped:
   * a replay of a log with a month-long gap runs once for the gap, not thirty times.
   */
  private stepOf(time: number): void {
    const end = (Math.floor(time / this.every) + 1) * this.every;
    if (this.scheduledAsOf !== null && end <= this.scheduledAsOf) return;
    if (this.stepEnd !== null && end > this.stepEnd && this.scheduled !== null)
      this.runScheduled(this.scheduled, this.stepEnd);
    if (this.stepEnd === null || end > this.stepEnd) this.stepEnd = end;
    this.scheduledAsOf ??= end - this.every;
  }

  /** Run scheduled detectors when the watermark passed the open step's end; at the end, at its value. */
  private schedule(watermark: number, final: boolean): void {
    if (this.scheduled === null || this.scheduledAsOf === null) return;
    // Strictly past: an event at the boundary itself may still be on its way.
    if (this.stepEnd !== null && this.stepEnd < watermark) this.runScheduled(this.scheduled, this.stepEnd);
    if (final && watermark > this.scheduledAsOf) this.runScheduled(this.scheduled, watermark);
  }

  private runScheduled(detectors: ScheduledDetectors, asOf: number): void {
    this.scheduledAsOf = asOf;
    if (this.stepEnd !== null && this.stepEnd <= asOf) this.stepEnd = null;
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
