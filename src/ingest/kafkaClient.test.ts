import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { offsetCommitter } from './kafkaClient.js';

type Commit = { topic: string; partition: number; offset: string }[];

/** A consumer whose commits are recorded and answered when the test says so. */
function consumer() {
  const sent: Commit[] = [];
  const answers: (() => void)[] = [];
  return {
    sent,
    answer: () => answers.shift()?.(),
    commitOffsets: (c: Commit) => {
      sent.push(c);
      return new Promise<void>((r) => answers.push(r));
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('offsetCommitter', () => {
  it('commits a batch only once it is durable, and never one that failed', async () => {
    const c = consumer();
    const commits = offsetCommitter(c, createLogger('silent'));
    let store!: () => void;
    const durable = new Promise<void>((r) => {
      store = r;
    });
    commits.after(durable, 't', 0, 10n);
    commits.after(Promise.reject(new Error('rejected by storage')), 't', 1, 5n);
    await settle();
    expect(c.sent).toEqual([]);
    store();
    await settle();
    expect(c.sent).toEqual([[{ topic: 't', partition: 0, offset: '10' }]]);
  });

  it('sends one request at a time, carrying the latest offset of every partition that moved meanwhile', async () => {
    const c = consumer();
    const commits = offsetCommitter(c, createLogger('silent'));
    commits.after(Promise.resolve(), 't', 0, 10n);
    await settle();
    commits.after(Promise.resolve(), 't', 0, 20n);
    commits.after(Promise.resolve(), 't', 0, 30n);
    commits.after(Promise.resolve(), 't', 3, 7n);
    await settle();
    expect(c.sent).toHaveLength(1);
    c.answer();
    await settle();
    expect(c.sent[1]).toEqual([
      { topic: 't', partition: 0, offset: '30' },
      { topic: 't', partition: 3, offset: '7' },
    ]);
    const drained = commits.drain();
    c.answer();
    await drained;
    expect(c.sent).toHaveLength(2);
  });

  it('drain waits for batches still being stored and for their commit', async () => {
    const c = consumer();
    const commits = offsetCommitter(c, createLogger('silent'));
    let store!: () => void;
    commits.after(
      new Promise<void>((r) => {
        store = r;
      }),
      't',
      2,
      4n,
    );
    let drained = false;
    const d = commits.drain().then(() => {
      drained = true;
    });
    await settle();
    expect(drained).toBe(false);
    store();
    await settle();
    expect(c.sent).toEqual([[{ topic: 't', partition: 2, offset: '4' }]]);
    expect(drained).toBe(false);
    c.answer();
    await d;
    expect(drained).toBe(true);
  });
});
