import type { StoredEvent } from '../../events/contract.js';
import type { TokenRecord } from '../tokenRecord.js';
import { NumberColumn } from './pairLists.js';
import { SpikeSeries, type SpikeSettings, Verdict } from './spikeSeries.js';
import type { Detector, DetectorDefinition, DetectorOutput, DetectorParams } from './types.js';

const MINUTE = 60_000;
const MAX_PRINCIPALS = 100_000;

/** `request_spike`: a minute far above the key's own recent minutes, and not a recurring burst. */
export const requestSpike: DetectorDefinition = {
  kind: 'request_spike',
  defaultCondition: 'event.type == "token.used"',
  params: {
    per: {
      type: 'enum',
      values: ['token', 'principal'],
      default: 'token',
      desc: 'count per token or per principal',
    },
    baseline: {
      type: 'duration',
      default: 60 * MINUTE,
      min: 10 * MINUTE,
      max: 240 * MINUTE,
      desc: 'minutes the median/MAD baseline covers',
    },
    warm_up: {
      type: 'duration',
      default: 24 * 60 * MINUTE,
      min: 0,
      desc: 'history a key needs before it can alert (learns daily jobs)',
    },
    min_rate: {
      type: 'number',
      default: 60,
      min: 1,
      desc: 'requests in a minute below which nothing is a spike',
    },
    threshold_mads: {
      type: 'number',
      default: 6,
      min: 1,
      desc: 'robust deviations (1.4826·MAD) above the median',
    },
    min_ratio: {
      type: 'number',
      default: 3,
      min: 1,
      desc: 'a spike is at least this multiple of the median',
    },
    recurrence_tolerance: {
      type: 'duration',
      default: 2 * MINUTE,
      min: 0,
      max: 10 * MINUTE,
      desc: 'slack on minute-of-hour of a recurring burst',
    },
    recurrence_ratio: {
      type: 'number',
      default: 2,
      min: 1,
      desc: 'a recurring burst may grow this much and stay recurring',
    },
    recurrence_lookback: {
      type: 'duration',
      default: 8 * 24 * 60 * MINUTE,
      min: 60 * MINUTE,
      desc: 'how old an earlier burst may be',
    },
  },
  create: ({ params }) => new RequestSpike(params),
};

function settingsOf(p: DetectorParams): SpikeSettings {
  const minutes = (key: string) => Math.round((p[key] as number) / MINUTE);
  return {
    warmUpMinutes: minutes('warm_up'),
    minRate: p.min_rate as number,
    thresholdMads: p.threshold_mads as number,
    minRatio: p.min_ratio as number,
    toleranceMinutes: minutes('recurrence_tolerance'),
    recurrenceRatio: p.recurrence_ratio as number,
    lookbackMinutes: minutes('recurrence_lookback'),
  };
}

class RequestSpike implements Detector {
  private series!: SpikeSeries;
  private per: 'token' | 'principal' = 'token';
  private readonly principals = new Map<string, number>();
  /** Series row of each token (`per: token`); NaN: none yet. */
  private readonly rows = new NumberColumn();

  constructor(params: DetectorParams) {
    this.configure(params);
  }

  configure(params: DetectorParams): void {
    const minutes = Math.round((params.baseline as number) / MINUTE);
    const per = params.per as 'token' | 'principal';
    if (this.series?.minutes === minutes && per === this.per) {
      this.series.configure(settingsOf(params));
      return;
    }
    // A different ring length or key cannot reuse rows: start learning afresh.
    this.series = new SpikeSeries(minutes, settingsOf(params));
    this.per = per;
    this.principals.clear();
    this.rows.clearAll();
  }

  observe(ev: StoredEvent, token: TokenRecord | undefined, out: DetectorOutput): void {
    const minute = Math.floor(ev.time / MINUTE);
    let row: number;
    let key = '';
    if (this.per === 'token') {
      if (token === undefined) return;
      row = this.rows.get(token.n);
      if (Number.isNaN(row)) {
        row = this.series.create(minute);
        this.rows.set(token.n, row);
      }
    } else {
      key = token?.principal || ev.principal;
      if (key === '') return;
      row = this.principals.get(key) ?? this.trackPrincipal(key, minute);
    }
    if (this.series.add(row, minute) !== Verdict.Spike || out.silent) return;
    const s = this.series;
    out.emit(ev, token, {
      subject: key === '' ? undefined : `principal:${key}`,
      summary:
        `${key === '' ? `Token ${ev.token_id}` : `Principal ${key}`} made ≥${s.threshold} requests in a minute ` +
        `(baseline median ${s.median}/min, MAD ${s.mad})`,
      context: { per: this.per, threshold: s.threshold, baseline_median: s.median, baseline_mad: s.mad },
    });
  }

  release(n: number): void {
    const row = this.rows.get(n);
    if (Number.isNaN(row)) return;
    this.series.release(row);
    this.rows.set(n, Number.NaN);
  }

  inherit(from: number, to: number): void {
    const row = this.rows.get(from);
    if (Number.isNaN(row)) return;
    this.release(to);
    this.rows.set(to, this.series.copy(row));
  }

  exportState(n: number): unknown {
    const row = this.rows.get(n);
    return Number.isNaN(row) ? undefined : this.series.read(row);
  }

  importState(n: number, json: unknown): void {
    if (!isWords(json, this.series.width)) return;
    this.release(n);
    this.rows.set(n, this.series.restore(json));
  }

  snapshot(): unknown {
    return [...this.principals].map(([key, row]) => [key, this.series.read(row)]);
  }

  restore(json: unknown): void {
    if (!Array.isArray(json)) return;
    for (const [key, words] of json as Array<[string, unknown]>) {
      if (typeof key !== 'string' || !isWords(words, this.series.width)) continue;
      this.principals.set(key, this.series.restore(words));
    }
  }

  private trackPrincipal(key: string, minute: number): number {
    if (this.principals.size >= MAX_PRINCIPALS) {
      const [oldest, row] = this.principals.entries().next().value as [string, number];
      this.principals.delete(oldest);
      this.series.release(row);
    }
    const row = this.series.create(minute);
    this.principals.set(key, row);
    return row;
  }
}

function isWords(json: unknown, width: number): json is number[] {
  return Array.isArray(json) && json.length === width && json.every((n) => typeof n === 'number');
}
