import type { Rhythm } from './model.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * Share of a credential's peak rate at time `t` (UTC): services run day and night with a
 * daytime swell, people and CI work business hours on weekdays. Every transition is smooth
 * (cosine ramps), because a real population's traffic has no step at 09:00 sharp.
 */
export function rhythmAt(rhythm: Rhythm, t: number): number {
  const hour = (t % DAY) / HOUR;
  const weekday = weekdayShare(t);
  const swell = bell(hour);
  if (rhythm === 'service') return (0.45 + 0.55 * swell) * (0.7 + 0.3 * weekday);
  return 0.03 + 0.97 * swell * (0.08 + 0.92 * weekday);
}

/** 0 at night, rising from 07:00 to a 13:00 peak and back to 0 at 19:00. */
function bell(hour: number): number {
  if (hour < 7 || hour > 19) return 0;
  return 0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 7)) / 12);
}

/** 1 on weekdays, 0 on weekends, blended over the three hours either side of midnight. */
function weekdayShare(t: number): number {
  const day = Math.floor(t / DAY);
  const into = (t % DAY) / HOUR;
  const today = isWeekday(day) ? 1 : 0;
  if (into < 3) {
    const yesterday = isWeekday(day - 1) ? 1 : 0;
    const w = 0.5 + into / 6;
    return yesterday + (today - yesterday) * w;
  }
  if (into > 21) {
    const tomorrow = isWeekday(day + 1) ? 1 : 0;
    const w = (into - 21) / 6;
    return today + (tomorrow - today) * w;
  }
  return today;
}

function isWeekday(epochDay: number): boolean {
  // 1970-01-01 was a Thursday: day 0 → 4.
  const dow = (epochDay + 4) % 7;
  return dow !== 0 && dow !== 6;
}

/** Mean share over a week, to turn a volume target into peak rates. */
export function meanRhythm(rhythm: Rhythm): number {
  let sum = 0;
  const steps = 7 * 24 * 6;
  for (let i = 0; i < steps; i++) sum += rhythmAt(rhythm, (i * DAY) / (24 * 6));
  return sum / steps;
}
