import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { issued, used } from '../eventBuilders.js';
import { expandFixtureEvents } from '../fixtureEvent.js';
import { replayEvents } from '../replayEvents.js';
import { compileRuleSet } from '../rules.js';
import { SpikeSeries, type SpikeSettings, Verdict } from './spikeSeries.js';

const SETTINGS: SpikeSettings = {
  warmUpMinutes: 120,
  minRate: 60,
  thresholdMads: 6,
  minRatio: 3,
  toleranceMinutes: 2,
  recurrenceRatio: 2,
  lookbackMinutes: 8 * 1440,
};
const T0 = 28_000_000; // a minute index (epoch minutes)

/** Feed per-minute counts; return the minutes (offsets) that became spikes or recurring bursts. */
function feed(counts: (minute: number) => number, minutes: number, settings = SETTINGS) {
  const series = new SpikeSeries(60, settings);
  const row = series.create(T0);
  const spikes: number[] = [];
  const recurring: number[] = [];
  for (let m = 0; m < minutes; m++) {
    for (let i = counts(m); i > 0; i--) {
      const verdict = series.add(row, T0 + m);
      if (verdict === Verdict.Spike) spikes.push(m);
      if (verdict === Verdict.Recurring && !recurring.includes(m)) recurring.push(m);
    }
  }
  return { spikes, recurring, series };
}

describe('requestSpike()', () => {
  it('knows a recurring job that usually stays below min_rate when it crosses it', () => {
    // Hourly at :07, 45 requests (under min_rate 60); one hour it makes 70 (×1.6, within ratio 2).
    const cron = (m: number) => (m % 60 === 7 ? (m === 727 ? 70 : 45) : 2);
    const { spikes, recurring } = feed(cron, 740);
    expect(spikes).toEqual([]);
    expect(recurring).toEqual([727]);
  });

  it('still flags a burst under min_rate grown far past its usual size', () => {
    const cron = (m: number) => (m % 60 === 7 ? (m === 727 ? 400 : 45) : 2);
    expect(feed(cron, 740).spikes).toEqual([727]);
  });

  it('flags a minute far above the baseline once warm-up is over', () => {
    const { spikes, series } = feed((m) => (m === 200 ? 400 : 10 + (m % 3)), 210);
    expect(spikes).toEqual([200]);
    expect(series.median).toBe(11);
    expect(series.threshold).toBe(60);
  });

  it('stays quiet during warm-up', () => {
    expect(feed((m) => (m === 100 ? 400 : 10), 110).spikes).toEqual([]);
  });

  it('ignores a jump that stays under the minimum rate', () => {
    expect(feed((m) => (m === 200 ? 50 : 1), 210).spikes).toEqual([]);
  });

  it('does not flag gradual growth', () => {
    // 0.5% more each minute: six-fold over six hours.
    expect(feed((m) => Math.round(20 * 1.005 ** m), 360).spikes).toEqual([]);
  });

  it('needs a multiple of the median on a steady high rate, not just many MADs', () => {
    expect(feed((m) => (m === 200 ? 1300 : 1000), 210).spikes).toEqual([]);
    expect(feed((m) => (m === 200 ? 3100 : 1000), 210).spikes).toEqual([200]);
  });

  it('treats a burst at the same minute of the hour as a cron job', () => {
    const hourly = (m: number) => (m % 60 === 30 ? 200 : 5);
    const { spikes, recurring } = feed(hourly, 400);
    expect(spikes).toEqual([]);
    expect(recurring).toEqual([150, 210, 270, 330, 390]);
  });

  it('recognises a daily job from yesterday at the same time', () => {
    const daily = (m: number) => (m % 1440 === 60 ? 300 : 5);
    const { spikes, recurring } = feed(daily, 1440 + 70);
    expect(spikes).toEqual([]);
    expect(recurring).toEqual([1500]);
  });

  it('still flags a burst at a cron minute that is far larger than the job', () => {
    const { spikes } = feed((m) => (m % 60 === 30 ? (m === 390 ? 1000 : 200) : 5), 400);
    expect(spikes).toEqual([390]);
  });

  it('counts a late request in its own minute without alerting', () => {
    const series = new SpikeSeries(60, SETTINGS);
    const row = series.create(T0);
    series.add(row, T0 + 10);
    for (let i = 0; i < 500; i++) expect(series.add(row, T0 + 5)).toBe(Verdict.None);
  });

  it('flags a principal whose tokens together burst', () => {
    const rules = compileRuleSet([
      {
        file: 'volume.yaml',
        text: '- rule: Principal spike\n  kind: request_spike\n  desc: d\n  severity: medium\n  params: {per: principal, warm_up: 2h}\n',
      },
    ]);
    const events = expandFixtureEvents(
      [
        issued('a', { principal: 'sa-report' }),
        issued('b', { principal: 'sa-report' }),
        used('1s', 'a', {}, { repeat: { count: 900, every: '12s' } }),
        used('3h', 'a', {}, { burst: { count: 60, every: '1s' } }),
        used('3h', 'b', {}, { burst: { count: 60, every: '1s' } }),
      ],
      Date.parse('2024-03-01T00:00:00Z'),
    );
    const [alert, ...rest] = replayEvents(events, { rules, logger: pino({ level: 'silent' }) });
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({ kind: 'request_spike', principal: 'sa-report' });
    expect(alert?.details.context).toMatchObject({ per: 'principal', threshold: 60 });
  });
});
