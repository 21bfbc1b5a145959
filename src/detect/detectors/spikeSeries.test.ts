import { describe, expect, it } from 'vitest';
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

/** xorshift: the same "random" streams on every run. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Minutes of one key's requests: quiet, bursty, late, with long gaps; mostly sparse. */
function stream(seed: number): number[] {
  const r = rng(seed);
  const out: number[] = [];
  let minute = 28_000_000;
  // Quiet for hours first (a quiet row past warm-up), then anything.
  for (let step = 0; step < 150; step++) {
    minute += 1 + Math.floor(r() * 40);
    for (let n = Math.floor(r() * 3); n > 0; n--)
      out.push(r() < 0.1 ? minute - Math.floor(r() * 70) : minute);
  }
  for (let step = 0; step < 3_000; step++) {
    const roll = r();
    if (roll < 0.5) minute += Math.floor(r() * 20);
    else if (roll < 0.55) minute += 60 + Math.floor(r() * 200);
    else if (roll < 0.6) minute += 1;
    const n = r() < 0.05 ? Math.floor(r() * 300) : r() < 0.2 ? Math.floor(r() * 40) : Math.floor(r() * 3);
    for (let i = 0; i < n; i++) out.push(r() < 0.03 ? minute - Math.floor(r() * 70) : minute);
  }
  return out;
}

describe('SpikeSeries quiet rows', () => {
  it('give the verdicts and figures of full rows on every stream', () => {
    // A short ring and a low min_rate put quiet minutes into the baselines that decide.
    const sensitive = { ...SETTINGS, minRate: 6, thresholdMads: 2, minRatio: 1, warmUpMinutes: 30 };
    for (let seed = 1; seed <= 12; seed++) {
      const minutes = stream(seed);
      const settings = seed % 2 === 0 ? SETTINGS : sensitive;
      const ring = seed % 2 === 0 ? 60 : 10;
      const quiet = new SpikeSeries(ring, settings);
      const full = new SpikeSeries(ring, settings, false);
      const a = quiet.create(minutes[0] as number);
      const b = full.create(minutes[0] as number);
      const got: string[] = [];
      const want: string[] = [];
      for (const m of minutes) {
        const verdict = quiet.add(a, m);
        if (verdict !== Verdict.None)
          got.push(`${m} ${verdict} ${quiet.median} ${quiet.mad} ${quiet.threshold}`);
        const expected = full.add(b, m);
        if (expected !== Verdict.None)
          want.push(`${m} ${expected} ${full.median} ${full.mad} ${full.threshold}`);
      }
      expect(got).toEqual(want);
      expect(want.length).toBeGreaterThan(0);
    }
  });

  it('build the full row from the quiet minutes still in the baseline', () => {
    const settings = { ...SETTINGS, minRate: 6, thresholdMads: 2, minRatio: 1, warmUpMinutes: 30 };
    const minutes: number[] = [];
    for (let m = 0; m < 300; m += 7) minutes.push(m);
    minutes.push(303, 305, 306); // quiet; the third busy minute within the ring needs a full row
    for (let m = 307; m < 313; m++) for (let i = 0; i < (m === 312 ? 9 : 2); i++) minutes.push(m);
    const figures = (series: SpikeSeries) => {
      const row = series.create(0);
      const out = minutes.map((m) => series.add(row, m)).filter((v) => v !== Verdict.None);
      return [...out, series.median, series.mad];
    };
    expect(figures(new SpikeSeries(10, settings))).toEqual([Verdict.Spike, 1.5, 0.5]);
    expect(figures(new SpikeSeries(10, settings, false))).toEqual([Verdict.Spike, 1.5, 0.5]);
  });

  it('keep a key that never gets busy without a full row', () => {
    const series = new SpikeSeries(60, SETTINGS);
    const row = series.create(1_000);
    for (let m = 1_000; m < 3_000; m += 31) for (let i = 0; i < 3; i++) series.add(row, m);
    expect(series.fullRows).toBe(0);
    expect(series.read(row).slice(0, 2)).toEqual([2_984, 3]);
  });

  it('copy and restore a quiet key into rows that go on alike', () => {
    const series = new SpikeSeries(60, SETTINGS);
    const row = series.create(1_000);
    for (let m = 1_000; m < 1_300; m++) series.add(row, m);
    const copy = series.copy(row);
    const restored = series.restore(series.read(row));
    for (let i = 0; i < 500; i++) {
      const verdict = series.add(row, 1_300);
      expect(series.add(copy, 1_300)).toBe(verdict);
      expect(series.add(restored, 1_300)).toBe(verdict);
    }
    expect(series.add(row, 1_300)).toBe(Verdict.None);
  });
});
