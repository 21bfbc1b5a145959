import type { Store } from '../src/store/store.js';
import { round } from './measure.js';

interface Tally {
  calls: number;
  rows: number;
  ms: number;
}

/**
 * A Store that keeps wall time per method: the end-to-end run then says by itself how much of a
 * batch is the dedup look-up and how much the insert, without touching src/.
 */
export function timedStore(inner: Store): { store: Store; report(): Record<string, unknown> } {
  const tallies = new Map<string, Tally>();
  const time =
    <A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>, rowsOf: (...a: A) => number) =>
    async (...a: A): Promise<R> => {
      const t = performance.now();
      try {
        return await fn(...a);
      } finally {
        const tally = tallies.get(name) ?? { calls: 0, rows: 0, ms: 0 };
        tally.calls++;
        tally.rows += rowsOf(...a);
        tally.ms += performance.now() - t;
        tallies.set(name, tally);
      }
    };
  const store: Store = {
    mode: inner.mode,
    database: inner.database,
    insertEvents: time('insertEvents', inner.insertEvents, (rows) => rows.length),
    insertDeadLetters: time('insertDeadLetters', inner.insertDeadLetters, (rows) => rows.length),
    storedEventIds: time('storedEventIds', inner.storedEventIds, (ids) => ids.length),
    storedDeadLetterIds: time('storedDeadLetterIds', inner.storedDeadLetterIds, (ids) => ids.length),
    prepareEvents: inner.prepareEvents
      ? (rows) => {
          const t = performance.now();
          inner.prepareEvents!(rows);
          const tally = tallies.get('prepareEvents') ?? { calls: 0, rows: 0, ms: 0 };
          tally.calls++;
          tally.rows += rows.length;
          tally.ms += performance.now() - t;
          tallies.set('prepareEvents', tally);
        }
      : undefined,
    query: inner.query,
    command: inner.command,
    close: inner.close,
  };
  return {
    store,
    report: () =>
      Object.fromEntries(
        [...tallies].map(([name, t]) => [
          name,
          {
            calls: t.calls,
            rows_per_call: Math.round(t.rows / t.calls),
            total_s: round(t.ms / 1000, 2),
            ms_per_call: round(t.ms / t.calls, 1),
          },
        ]),
      ),
  };
}
