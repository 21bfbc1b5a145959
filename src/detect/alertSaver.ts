import type { Logger } from 'pino';
import { errorMessage, isRetriable } from '../errors.js';
import type { AlertStore } from '../store/alertStore.js';
import { type Alert, type AlertChange, mergeAlert } from './alert.js';

export interface AlertSaverOptions {
  alerts: AlertStore;
  logger: Logger;
  /** Pause before retrying a failed save (storage down). */
  retryMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Stored states remembered for merging (alerts that span a restart); the oldest beyond it are forgotten. */
  maxBases?: number;
}

interface Pending {
  alert: Alert;
  /** The engine opened it in this process: the store may already hold a state from before. */
  opened: boolean;
  /** A complete state (scheduled detectors): saved as given, never merged. */
  whole: boolean;
}

/**
 * Collects alert states from the engine and writes them in one insert per flush, the latest
 * state per id. An alert the engine opens may already be stored, from before a restart or from a
 * window the engine had forgotten: its stored state becomes a base the engine's counts add to,
 * so a restart neither resets an alert's count nor reopens one a responder closed. A failed save
 * is retried until it succeeds; nothing is dropped without an error in the log.
 */
export class AlertSaver {
  private pending = new Map<string, Pending>();
  private readonly bases = new Map<string, Alert>();
  private chain: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  saved = 0;

  constructor(private readonly options: AlertSaverOptions) {
    this.log = options.logger.child({ module: 'alert-saver' });
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** An alert as the engine's sink gives it. */
  add(alert: Alert, change: AlertChange): void {
    const earlier = this.pending.get(alert.id);
    this.pending.set(alert.id, {
      alert,
      opened: change === 'opened' || earlier?.opened === true,
      whole: false,
    });
  }

  /** Complete alert states (scheduled detectors): they replace what is stored. */
  addWhole(alerts: readonly Alert[]): void {
    for (const alert of alerts) this.pending.set(alert.id, { alert, opened: false, whole: true });
  }

  /** Write what is pending; resolves once it and every earlier flush are stored. */
  flush(): Promise<void> {
    if (this.pending.size === 0) return this.chain;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.chain = this.chain.then(() => this.write(batch));
    return this.chain;
  }

  private async write(batch: Pending[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.loadBases(batch.filter((p) => p.opened && !p.whole).map((p) => p.alert.id));
        await this.options.alerts.save(batch.map((p) => this.withBase(p)));
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

  private async loadBases(ids: string[]): Promise<void> {
    const unknown = ids.filter((id) => !this.bases.has(id));
    if (unknown.length === 0) return;
    for (const stored of await this.options.alerts.get(unknown)) {
      this.bases.set(stored.id, stored);
      if (this.bases.size > (this.options.maxBases ?? 10_000)) {
        this.bases.delete(this.bases.keys().next().value as string);
      }
    }
  }

  private withBase(p: Pending): Alert {
    const base = p.whole ? undefined : this.bases.get(p.alert.id);
    if (base === undefined) return p.alert;
    const merged = structuredClone(base);
    mergeAlert(merged, p.alert);
    // The rule may have changed since; a responder's verdict must not be undone by a repeat.
    merged.severity = p.alert.severity;
    merged.summary = p.alert.summary;
    return merged;
  }
}
