import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { errorMessage, isRetriable } from '../errors.js';
import type { AlertStore, Checkpoint } from '../store/alertStore.js';
import { type Alert, type AlertChange, mergeAlert } from './alert.js';

export interface AlertSaverOptions {
  alerts: AlertStore;
  logger: Logger;
  /** Pause before retrying a failed save (storage down). */
  retryMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Stored states remembered for merging (alerts that span a restart); the oldest beyond it are forgotten. */
  maxBases?: number;
  /** Ids remembered as saved by this process; beyond it the oldest are read back before a save again. */
  maxSaved?: number;
  /** Least time between two saves of the detection checkpoint (wall clock). Default 1 s. */
  checkpointEveryMs?: number;
  /** Wall clock, for the checkpoint's pace only (never for detection). */
  now?: () => number;
}

/** Summary prefix of an alert this saver withdrew (see `withdraw`). */
const WITHDRAWN = 'Withdrawn: event-time order did not confirm it. ';

type Source = 'engine' | 'early' | 'whole' | 'withdrawn';

interface Pending {
  alert: Alert;
  /** engine: from the aggregator; early: a stateless match before event-time order (see Engine.early);
   * whole: a complete state (scheduled detectors); withdrawn: an early alert event-time order did not confirm. */
  source: Source;
  /** The engine opened it in this process: the store may already hold a state from before. */
  opened: boolean;
  /** Start of the alert's dedup window (event time); -Infinity when unknown. */
  windowStart: number;
  /**
   * The engine saw every event of this window (see `setCompleteFrom`): its counts are the whole
   * alert, not an addition to what is stored.
   */
  complete: boolean;
}

/**
 * Collects alert states and writes them in one insert per flush, the latest state per id.
 *
 * An alert the engine opens may already be stored, from before a restart or from a window the
 * engine had forgotten: that stored state becomes a base the engine's counts add to. A stored
 * status is never undone: an alert a responder dismissed or confirmed keeps that status when it
 * is raised again, only its count, times and evidence move. To know the status, ids that may be
 * stored are read back before each save; a new alert whose window starts after `storedUntil`
 * (nothing stored can hold it) is written at once, without that read, which is what keeps the
 * first save of an alert fast. A failed save is retried until it succeeds; nothing is dropped
 * without an error in the log.
 */
export class AlertSaver {
  private pending = new Map<string, Pending>();
  /** Stored state of an id before this process first wrote it (null: there was none). */
  private readonly bases = new Map<string, Alert | null>();
  /** Ids this process wrote, with their window start, oldest first. */
  private readonly written = new Map<string, number>();
  /**
   * Ids of flushes not yet stored, with their window start: an early alert is flushed while the
   * engine may still withdraw or repeat it, and must count as written from the moment it leaves.
   */
  private readonly writing = new Map<string, number>();
  /** Ids this process withdrew: their stored `dismissed` is its own doing, not a responder's. */
  private readonly withdrawnHere = new Set<string>();
  /** Windows starting at or before this may hold alerts saved by an earlier run. */
  private storedUntil = Number.POSITIVE_INFINITY;
  /**
   * Digests of early alerts as saved, until the engine takes them over: most takeovers are the
   * very same alert (one use, in event-time order now), and saving it again would change nothing.
   */
  private readonly earlyStates = new Map<string, string>();
  /** Ids the engine reopened after forgetting them: partial from then on, their base read again. */
  private readonly partial = new Set<string>();
  /** Windows starting at or after this are complete in the engine (see `setCompleteFrom`). */
  private completeFrom = Number.POSITIVE_INFINITY;
  /** Latest position whose alerts are pending or saved; the one last stored, and when. */
  private position: Checkpoint | null = null;
  private storedPosition: Checkpoint | null = null;
  private positionSavedAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private chain: Promise<void> = Promise.resolve();
  /** The save that will take what is pending when it starts; null when none is waiting. */
  private next: Promise<void> | null = null;
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  saved = 0;

  constructor(private readonly options: AlertSaverOptions) {
    this.log = options.logger.child({ module: 'alert-saver' });
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = options.now ?? Date.now;
  }

  /**
   * After a restart that restored the engine from `from` on (rebuildDetection): the engine has
   * seen every event of windows starting at or after it, so its alert of such a window is the
   * whole alert. It is saved as is (a stored status kept), never added to what is stored, never
   * saved when it holds less than what is stored (the run before the restart got further) or
   * nothing new. That is what lets a restart re-run events whose alerts may already be saved.
   */
  setCompleteFrom(from: number): void {
    this.completeFrom = from;
  }

  /**
   * Every alert the engine raised for events up to `at` (in its order) is now pending or saved:
   * saves carry the latest such position to the store as the detection checkpoint.
   */
  checkpoint(at: Checkpoint): void {
    this.position = at;
  }

  /**
   * Only windows starting at or before `until` (event time) can hold alerts saved before this
   * process: the store's events end there (after a rebuild), or it is empty (-Infinity).
   * Until this is called every id is read back before its first save.
   */
  setStoredUntil(until: number): void {
    this.storedUntil = until;
  }

  /** An alert as the engine's sink gives it. */
  add(alert: Alert, change: AlertChange, windowStart = Number.NEGATIVE_INFINITY): void {
    const earlier = this.pending.get(alert.id);
    if (change === 'reopened') {
      // What is stored (or on its way) holds the part before: the engine's counts add to it.
      this.bases.delete(alert.id);
      this.partial.add(alert.id);
      if (this.partial.size > (this.options.maxBases ?? 100_000))
        this.partial.delete(this.partial.values().next().value as string);
    }
    this.pending.set(alert.id, {
      alert,
      source: 'engine',
      opened: change !== 'updated' || (earlier?.source === 'engine' && earlier.opened),
      windowStart,
      complete: windowStart >= this.completeFrom && !this.partial.has(alert.id),
    });
  }

  /** A stateless match saved before event-time order confirms it; ignored once the id is saved or pending. */
  addEarly(alert: Alert, windowStart: number): void {
    if (this.pending.has(alert.id) || this.written.has(alert.id) || this.writing.has(alert.id)) return;
    this.pending.set(alert.id, {
      alert,
      source: 'early',
      opened: true,
      windowStart,
      complete: windowStart >= this.completeFrom,
    });
  }

  /** Event-time order did not confirm an early alert: withdraw it (dismissed, unless a base says otherwise). */
  withdraw(alert: Alert): void {
    const earlier = this.pending.get(alert.id);
    if (earlier?.source === 'early') {
      this.pending.delete(alert.id);
      return;
    }
    // Saved, or still being saved: either way a state to withdraw is (about to be) stored.
    const windowStart = this.written.get(alert.id) ?? this.writing.get(alert.id);
    if (earlier !== undefined || windowStart === undefined) return;
    this.pending.set(alert.id, {
      alert,
      source: 'withdrawn',
      opened: false,
      windowStart,
      complete: windowStart >= this.completeFrom,
    });
  }

  /** Complete alert states (scheduled detectors): they replace what is stored, its status kept. */
  addWhole(alerts: readonly Alert[]): void {
    for (const alert of alerts)
      this.pending.set(alert.id, {
        alert,
        source: 'whole',
        opened: false,
        windowStart: Number.NEGATIVE_INFINITY,
        complete: false,
      });
  }

  /**
   * Write what is pending; resolves once it and every earlier flush are stored. One save runs at
   * a time: what is flushed while one runs goes in the next, with whatever else became pending
   * meanwhile, so a slow store gets fewer and larger saves instead of a growing queue of small ones.
   */
  flush(): Promise<void> {
    if (this.pending.size === 0 && !this.checkpointDue()) return this.chain;
    if (this.next === null) {
      const next = this.chain.then(async () => {
        this.next = null;
        // Taken with the batch: every alert raised up to it is in this batch or saved before.
        const at = this.position;
        const batch = this.take();
        if (batch.length > 0) await this.write(batch);
        // Stored (now in `written`), or rejected for good: no longer on its way either way.
        for (const p of batch) this.writing.delete(p.alert.id);
        if (at !== null && this.checkpointDue()) await this.saveCheckpoint(at);
      });
      this.next = next;
      this.chain = next;
    }
    return this.next;
  }

  private checkpointDue(): boolean {
    return (
      this.position !== this.storedPosition &&
      this.now() - this.positionSavedAt >= (this.options.checkpointEveryMs ?? 1_000)
    );
  }

  /** A failed checkpoint is only a longer re-run at the next restart: logged, not retried. */
  private async saveCheckpoint(at: Checkpoint): Promise<void> {
    this.positionSavedAt = this.now();
    try {
      await this.options.alerts.saveCheckpoint(at);
      this.storedPosition = at;
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'saving the detection checkpoint failed');
    }
  }

  /** What is pending, less the engine's takeovers of early alerts that change nothing that is stored. */
  private take(): Pending[] {
    const batch: Pending[] = [];
    for (const p of this.pending.values()) {
      const early = this.earlyStates.get(p.alert.id);
      if (early !== undefined && p.source !== 'early') {
        this.earlyStates.delete(p.alert.id);
        if (p.source === 'engine' && early === digest(p.alert)) continue;
      }
      this.writing.set(p.alert.id, p.windowStart);
      batch.push(p);
    }
    this.pending = new Map();
    return batch;
  }

  private async write(batch: Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const stored = await this.readStored(batch);
        const rows: Alert[] = [];
        for (const p of batch) {
          const row = this.row(p, stored.get(p.alert.id));
          if (!redundant(p, row, stored.get(p.alert.id))) rows.push(row);
        }
        if (rows.length > 0) await this.options.alerts.save(rows);
        for (const p of batch) this.remember(p);
        this.saved += batch.length;
        return;
      } catch (err) {
        if (!isRetriable(err)) {
          this.log.error(
            { err: errorMessage(err), alerts: batch.map((p) => p.alert.id) },
            'alerts rejected by storage; not saved',
          );
          return;
        }
        const delay = Math.min(10_000, (this.options.retryMs ?? 200) * 2 ** Math.min(attempt, 6));
        this.log.warn(
          { err: errorMessage(err), attempt, retry_in_ms: delay },
          'saving alerts failed; retrying',
        );
        await this.sleep(delay);
      }
    }
  }

  /** Stored states of the ids that may have one: written before, or of a window an earlier run saw. */
  private async readStored(batch: Pending[]): Promise<Map<string, Alert>> {
    const ids = batch
      .filter(
        (p) =>
          p.source === 'whole' ||
          this.written.has(p.alert.id) ||
          p.windowStart <= this.storedUntil ||
          this.partial.has(p.alert.id),
      )
      .map((p) => p.alert.id);
    const out = new Map<string, Alert>();
    if (ids.length === 0) return out;
    for (const a of await this.options.alerts.get(ids)) out.set(a.id, a);
    // First write of an id in this process: what is stored now was there before us, and the
    // engine's counts add to it, unless the engine saw the whole window.
    for (const p of batch) {
      const id = p.alert.id;
      if ((!this.written.has(id) || this.partial.has(id)) && !this.bases.has(id) && out.has(id))
        this.setBase(id, p.complete ? undefined : out.get(id));
    }
    return out;
  }

  private row(p: Pending, stored: Alert | undefined): Alert {
    const alert = p.alert;
    if (p.source === 'whole') {
      if (stored === undefined) return alert;
      // Re-raised by a later run: the responder's verdict stays, count and last_seen move.
      return { ...alert, status: stored.status, count: Math.max(stored.count, alert.count) };
    }
    const base = this.bases.get(alert.id) ?? undefined;
    let row = alert;
    if (base !== undefined) {
      row = structuredClone(base);
      mergeAlert(row, alert);
      // The rule may have changed since; a responder's verdict must not be undone by a repeat.
      row.severity = alert.severity;
      row.summary = alert.summary;
    }
    if (p.source === 'withdrawn') {
      this.withdrawnHere.add(alert.id);
      const status =
        stored !== undefined && stored.status !== 'open' ? stored.status : (base?.status ?? 'dismissed');
      return {
        ...row,
        status,
        summary: base ? row.summary : `${WITHDRAWN}${alert.summary}`,
      };
    }
    // Dismissed by a withdrawal, of this process or (a complete window) of the one before a restart.
    const withdrawn =
      this.withdrawnHere.delete(alert.id) || (p.complete && stored?.summary.startsWith(WITHDRAWN));
    const ours = withdrawn && stored?.status === 'dismissed';
    return stored === undefined || ours ? row : { ...row, status: stored.status };
  }

  private remember(p: Pending): void {
    const id = p.alert.id;
    if (p.source === 'early') {
      this.earlyStates.set(id, digest(p.alert));
      if (this.earlyStates.size > (this.options.maxBases ?? 100_000))
        this.earlyStates.delete(this.earlyStates.keys().next().value as string);
    }
    if (!this.bases.has(id)) this.setBase(id, undefined);
    this.written.delete(id);
    this.written.set(id, p.windowStart);
    const max = this.options.maxSaved ?? 200_000;
    if (this.written.size <= max) return;
    // Forget the oldest half; their windows may now hold stored alerts, so read those back.
    let drop = this.written.size - Math.floor(max / 2);
    for (const [old, start] of this.written) {
      if (drop-- <= 0) break;
      this.written.delete(old);
      if (start > this.storedUntil) this.storedUntil = start;
    }
  }

  private setBase(id: string, stored: Alert | undefined): void {
    this.bases.set(id, stored ?? null);
    if (this.bases.size > (this.options.maxBases ?? 100_000))
      this.bases.delete(this.bases.keys().next().value as string);
  }
}

/**
 * A complete alert that would add nothing to what is stored: the same state, or less of it (the
 * run before a restart got further in the same events, and this one will get there too).
 */
function redundant(p: Pending, row: Alert, stored: Alert | undefined): boolean {
  if (!p.complete || stored === undefined || p.source === 'withdrawn') return false;
  if (row.count < stored.count) return true;
  return (
    row.count === stored.count &&
    row.status === stored.status &&
    row.summary === stored.summary &&
    row.first_seen === stored.first_seen &&
    row.last_seen === stored.last_seen &&
    JSON.stringify(row.evidence) === JSON.stringify(stored.evidence) &&
    JSON.stringify(row.details) === JSON.stringify(stored.details)
  );
}

/** An alert's content in a few bytes: equal digests, equal alerts. */
function digest(alert: Alert): string {
  return createHash('sha256').update(JSON.stringify(alert)).digest('base64');
}
