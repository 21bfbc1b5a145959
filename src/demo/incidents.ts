import { STREAM_SCENARIOS } from './scenarios.js';
import type { World } from './world.js';

/** Kinds of stream incidents, in the order incident times are assigned to them. */
export const STREAM_SCENARIO_NAMES = STREAM_SCENARIOS.map((s) => s.name);

/**
 * Schedule the stream incidents: the i-th incident time plays scenario i mod n. A scenario
 * that finds no fitting target then (e.g. no token old enough) is counted as skipped.
 */
export function planIncidents(world: World): void {
  const times = [...(world.options.incidentTimes ?? [])].sort((a, b) => a - b);
  times.forEach((time, i) => {
    const scenario = STREAM_SCENARIOS[i % STREAM_SCENARIOS.length]!;
    world.at(time, () => {
      const tally = world.scenarios[scenario.name] ?? { run: 0, skipped: 0 };
      world.scenarios[scenario.name] = tally;
      if (scenario.run(world)) tally.run++;
      else tally.skipped++;
    });
  });
}

/** `n` incident times spread evenly over [from, to), so every scenario gets n / 11 of them. */
export function evenIncidentTimes(from: number, to: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(from + ((i + 0.5) * (to - from)) / n));
}
