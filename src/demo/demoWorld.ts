import { STREAM_SCENARIO_NAMES } from './incidents.js';
import { DAY, MINUTE } from './model.js';
import { createWorld, type World } from './world.js';

/** Days of history before now: past new_source's 7-day learning period, with a day to spare. */
export const DEMO_HISTORY_DAYS = 9;
/** The first round of incidents begins this long after `now`, one scenario every SPACING. */
export const DEMO_FIRST_INCIDENT_MS = 60_000;
const SPACING_MS = 8_000;
const ROUNDS = 12;
const ROUND_EVERY_MS = 10 * MINUTE;

/**
 * The world `choir demo` plays: history up to `now` (written at once), then a day of live
 * traffic at the wall clock's pace. World time is not sped up; instead incidents are packed
 * into the live part: a round of every stream scenario starts a minute in, 8 s apart, and
 * another round every 10 minutes for two hours. The scheduled kinds are planted in history.
 */
export function demoWorld(opts: { now: number; tokens?: number; seed?: number }): World {
  const now = Math.floor(opts.now / MINUTE) * MINUTE;
  const tokens = opts.tokens ?? 300;
  const first = opts.now + DEMO_FIRST_INCIDENT_MS;
  const incidentTimes: number[] = [];
  for (let r = 0; r < ROUNDS; r++)
    for (let i = 0; i < STREAM_SCENARIO_NAMES.length; i++)
      incidentTimes.push(first + r * ROUND_EVERY_MS + i * SPACING_MS);
  return createWorld({
    seed: opts.seed ?? 1,
    start: now - DEMO_HISTORY_DAYS * DAY,
    days: DEMO_HISTORY_DAYS + 1,
    tokens,
    eventsPerDay: tokens * 80,
    incidentTimes,
    quick: true,
  });
}
