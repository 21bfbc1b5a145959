import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { PartitionAlignment } from './partitionAlignment.js';

function setup() {
  let clock = 0;
  const calls: string[] = [];
  const alignment = new PartitionAlignment({
    client: {
      pause: (topic, partition) => calls.push(`pause ${topic}#${partition}`),
      resume: (topic, partition) => calls.push(`resume ${topic}#${partition}`),
    },
    maxSkewMs: 1_000,
    idleMs: 5_000,
    logger: createLogger('silent'),
    now: () => clock,
  });
  return {
    alignment,
    calls,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('partition alignment', () => {
  it('pauses a partition running ahead in event time and resumes it once the slowest is near', () => {
    const { alignment, calls } = setup();
    alignment.observe('t', 0, 10_000, false);
    alignment.observe('t', 1, 10_900, false);
    expect(calls).toEqual([]);
    alignment.observe('t', 1, 11_001, false);
    expect(calls).toEqual(['pause t#1']);
    expect(alignment.paused).toEqual(['t#1']);
    // A batch of it fetched before the pause still arrives: it stays paused.
    alignment.observe('t', 1, 12_000, false);
    alignment.observe('t', 0, 10_500, false);
    expect(calls).toEqual(['pause t#1']);
    alignment.observe('t', 0, 11_000, false);
    expect(calls).toEqual(['pause t#1', 'resume t#1']);
    expect(alignment.paused).toEqual([]);
    alignment.stop();
  });

  it('is held back only by partitions being read: not by one at its end, nor by one without events', () => {
    const { alignment, calls } = setup();
    alignment.observe('t', 0, undefined, false);
    alignment.observe('t', 1, 0, true);
    alignment.observe('t', 2, 5_000, false);
    alignment.observe('t', 3, 5_500, false);
    expect(calls).toEqual([]);
    alignment.observe('t', 3, 6_500, false);
    expect(calls).toEqual(['pause t#3']);
    // The slowest reaches its end: nothing is left to wait for.
    alignment.observe('t', 2, 5_200, true);
    expect(calls).toEqual(['pause t#3', 'resume t#3']);
    alignment.stop();
  });

  it('stops waiting for a partition gone silent (reassigned, stalled) without any batch arriving', async () => {
    const { alignment, calls, advance } = setup();
    alignment.observe('t', 0, 0, false);
    alignment.observe('t', 1, 2_000, false);
    expect(calls).toEqual(['pause t#1']);
    advance(4_999);
    alignment.check();
    expect(calls).toEqual(['pause t#1']);
    advance(1);
    // The timer alignment runs while a partition is paused checks every idleMs / 4 of wall clock.
    await new Promise((r) => setTimeout(r, 1_400));
    expect(calls).toEqual(['pause t#1', 'resume t#1']);
    alignment.stop();
  });
});
