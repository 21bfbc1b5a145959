/** One measured phase: wall-clock seconds and the rate it implies. */
export interface Rate {
  seconds: number;
  events_per_s: number;
}

/**
 * Rate after the first row (or message) arrived: start-up (group join, first fetch, first batch)
 * excluded. Null when the first and last observations are too close for a rate to mean anything.
 */
export function steadyRate(events: number, firstMs: number, doneMs: number): number | null {
  return doneMs - firstMs < 1000 ? null : Math.round(events / ((doneMs - firstMs) / 1000));
}

export function rate(events: number, ms: number): Rate {
  return { seconds: round(ms / 1000, 3), events_per_s: Math.round(events / (ms / 1000)) };
}

/** Peak resident set of this process so far (Linux reports maxRSS in KiB). */
export function peakRssMiB(): number {
  return round(process.resourceUsage().maxRSS / 1024, 1);
}

/**
 * CPU time this process used since `since`, per event, in µs: every thread's (chDB's too), so a
 * figure that other load on the machine skews far less than a rate.
 */
export function cpuMicrosPerEvent(since: NodeJS.CpuUsage, events: number): number {
  const u = process.cpuUsage(since);
  return round((u.user + u.system) / events, 1);
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

/**
 * Poll `count()` until it reaches `target`; returns when the first row and the last row were seen,
 * in ms after `startedAt`. Polling (rather than a callback) is the only view both Choir and
 * ClickHouse's Kafka engine share: rows are "in" once a query can count them.
 */
export async function waitForCount(
  count: () => Promise<number>,
  target: number,
  startedAt: number,
  opts: { intervalMs?: number; timeoutMs?: number; label: string },
): Promise<{ firstRowMs: number; doneMs: number }> {
  const interval = opts.intervalMs ?? 250;
  const deadline = startedAt + (opts.timeoutMs ?? 30 * 60_000);
  let firstRowMs = Number.NaN;
  let lastLogged = 0;
  for (;;) {
    const n = await count();
    const now = performance.now();
    if (n > 0 && Number.isNaN(firstRowMs)) firstRowMs = now - startedAt;
    if (n >= target) return { firstRowMs, doneMs: now - startedAt };
    if (now > deadline) throw new Error(`${opts.label}: timed out at ${n} of ${target} rows`);
    if (now - lastLogged > 5_000) {
      const rss = Math.round(process.memoryUsage.rss() / 2 ** 20);
      log(
        `${opts.label}: ${n}/${target} rows after ${((now - startedAt) / 1000).toFixed(1)} s, rss ${rss} MiB`,
      );
      lastLogged = now;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
