import type { EventType, StoredEvent, TokenEvent } from '../events/contract.js';
import { normalise } from '../events/normalise.js';
import { parseDuration } from './duration.js';

/** A fixture event: contract v1, with `at` (offset from the case start) and `repeat` shorthands. */
export interface FixtureEvent extends Omit<TokenEvent, 'id' | 'time' | 'type'> {
  id?: string;
  type: EventType;
  time?: string;
  at?: string;
  repeat?: { count: number; every: string };
  /** Each occurrence is a burst of `count` copies `every` apart (a cron job's run). */
  burst?: { count: number; every: string };
}

/**
 * Expand fixture events into stored events in time order. Times: `time` (RFC 3339) or `at`
 * (`90s` after `start`); `token.expires_at` may also be `+1h` from `start`.
 */
export function expandFixtureEvents(events: readonly FixtureEvent[], start: number): StoredEvent[] {
  const out: StoredEvent[] = [];
  events.forEach((f, index) => {
    const base =
      f.time !== undefined ? Date.parse(f.time) : start + duration(f.at ?? '0s', `event ${index + 1} "at"`);
    const count = f.repeat?.count ?? 1;
    const every = f.repeat ? duration(f.repeat.every, `event ${index + 1} "repeat.every"`) : 0;
    const size = f.burst?.count ?? 1;
    const gap = f.burst ? duration(f.burst.every, `event ${index + 1} "burst.every"`) : 0;
    const { at: _at, repeat: _repeat, burst: _burst, ...wire } = f;
    const expires = wire.token?.expires_at;
    const token = expires?.startsWith('+')
      ? {
          ...wire.token,
          id: wire.token?.id ?? '',
          expires_at: iso(start + duration(expires.slice(1), 'expires_at')),
        }
      : wire.token;
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < size; j++) {
        const id = `${f.id ?? `e${index + 1}`}${count > 1 ? `-${i + 1}` : ''}${size > 1 ? `.${j + 1}` : ''}`;
        const event: TokenEvent = { ...wire, token, id, time: iso(base + i * every + j * gap) };
        // The ingest normaliser itself, so fixtures see exactly what live ingestion stores.
        out.push(normalise(event, JSON.stringify(event)));
      }
    }
  });
  return out.sort((a, b) => a.time - b.time);
}

function duration(text: string, where: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`${where}: "${text}" is not a duration like 90s or 2h`);
  return ms;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
