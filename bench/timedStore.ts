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
  const record = (name: string, rows: number, since: number) => {
    const tally = tallies.get(name) ?? { calls: 0, rows: 0, ms: 0 };
    tally.calls++;
    tally.rows += rows;
    tally.ms += performance.now() - since;
    tallies.set(name, tally);
  };
  const time =
    <A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>, rowsOf: (...a: A) => number) =>
    async (...a: A): Promise<R> => {
      const t = performance.now();
      try {
        return await fn(...a);
      } finally {
        record(name, rowsOf(...a), t);
      }
    };
  const prepare = inner.prepareEvents;
  const store: Store = {
    mode: inner.mode,
    database: inner.database,
    insertEvents: time('insertEvents', inner.insertEvents, (rows) => rows.length),
    insertDeadLetters: time('insertDeadLetters', inner.insertDeadLetters, (rows) => rows.length),
    storedEventIds: time('storedEventIds', inner.storedEventIds, (ids) => ids.length),
    storedDeadLetterIds: time('storedDeadLetterIds', inner.storedDeadLetterIds, (ids) => ids.length),
    prepareEvents: prepare
      ? (rows) => {
          const t = performance.now();
          prepare(rows);
          record('prepareEvents', rows.length, t);
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
