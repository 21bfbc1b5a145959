import type { Logger } from 'pino';
import type { Checkpoint } from '../store/alertStore.js';
import { eventTimeRange, readEvents, readIssuedTokens, writerEventChain } from '../store/eventQueries.js';
import type { Store } from '../store/store.js';
import type { AlertSaver } from './alertSaver.js';
import type { DetectionRunner } from './detectionRunner.js';
import { byTimeThenId } from './reorderBuffer.js';

const DAY = 86_400_000;

export interface RebuildSummary {
  /** Events learned silently, restored (see DetectionRunner.restore), and re-run live. */
  events: number;
  restored: number;
  rerun: number;
  /** Of the re-run: late events, behind the checkpoint but stored after it was saved. */
  late: number;
  /** Tokens seeded from issuances older than the window. */
  tokens: number;
  /** Event-time window learned (epoch ms); null when the log is empty. */
  from: number | null;
  to: number | null;
}

/**
 * Rebuild detector state from the log, so a restarted instance knows the sources, baselines
 * and tokens the previous one knew and does not alert on them again, and raises every alert the
 * previous one had not saved when it stopped (a SIGKILL with events in the reorder buffer).
 *
 * The window is the last `days` of event time before the latest stored event (never the wall
 * clock); tokens issued before it are seeded with their issuance facts, principals disabled
 * before it are learned. `checkpoint` is how far (in (time, id) order) the run before had saved
 * its alerts: events after it are re-run through the live path (`onStored`), so their alerts are
 * raised. Events in the two longest dedup windows before it are restored — processed as live,
 * alerts not saved again — so that alert windows still open at the checkpoint, with repeats
 * counted and not yet saved, are rebuilt whole; the saver then saves alerts of windows from there
 * as whole states (AlertSaver.setCompleteFrom), which makes re-running saved events harmless.
 * Everything before is learned silently. Without a checkpoint (a log written before checkpoints
 * existed) the whole window is learned silently.
 *
 * A late event (behind the watermark when it came) is behind the checkpoint in (time, id) order,
 * yet may have been stored after the checkpoint was saved, its alerts not: the checkpoint also
 * holds the link of the writer's event chain up to which every stored event had gone through
 * detection, and this writer's events stored after it are re-run instead of restored. (One more
 * than two dedup windows late is learned silently still: its alert window is not rebuilt whole.)
 */
export async function rebuildDetection(options: {
  store: Store;
  runner: DetectionRunner;
  saver: AlertSaver;
  checkpoint: Checkpoint | null;
  /** `storage.writer_id`: the chain whose links the checkpoint counts. */
  writerId: string;
  days: number;
  logger: Logger;
  pageRows?: number;
}): Promise<RebuildSummary> {
  const { store, runner, pageRows } = options;
  const log = options.logger.child({ module: 'rebuild' });
  const range = options.days > 0 ? await eventTimeRange(store) : null;
  const summary: RebuildSummary = {
    events: 0,
    restored: 0,
    rerun: 0,
    late: 0,
    tokens: 0,
    from: null,
    to: null,
  };
  if (range === null) return summary;
  const started = performance.now();
  const from = Math.max(range.first, range.last - options.days * DAY);
  if (from > range.first) {
    for await (const page of readIssuedTokens(store, { before: from, pageRows })) {
      for (const facts of page) runner.seedToken(facts);
      summary.tokens += page.length;
    }
    const old = { from: range.first, to: from - 1, types: ['principal.disabled'] as const, pageRows };
    for await (const page of readEvents(store, old)) {
      for (const ev of page) runner.learn(ev);
      summary.events += page.length;
    }
  }
  const checkpoint = options.checkpoint;
  if (checkpoint === null)
    log.warn('no detection checkpoint in the store: the whole window is learned without alerting');
  // Windows start on multiples of their length: two of the longest reach back to any still open.
  const restoreFrom =
    checkpoint === null
      ? Number.POSITIVE_INFINITY
      : Math.max(from, checkpoint.time - 2 * runner.maxDedupWindow);
  if (restoreFrom > from) {
    const to = Math.min(range.last, restoreFrom - 1);
    for await (const page of readEvents(store, { from, to, pageRows })) {
      for (const ev of page) runner.learn(ev);
      summary.events += page.length;
    }
  }
  const chain = await writerEventChain(store, options.writerId, {
    after: checkpoint?.storedSeq ?? null,
    from: restoreFrom,
    to: checkpoint?.time ?? range.last,
  });
  // Everything stored so far is being read: the checkpoints from here on count from its head.
  runner.storedThrough(chain.head);
  if (checkpoint !== null) {
    options.saver.setCompleteFrom(restoreFrom);
    for await (const page of readEvents(store, { from: restoreFrom, to: range.last, pageRows })) {
      const rerun: typeof page = [];
      for (const ev of page) {
        if (byTimeThenId(ev, checkpoint) > 0) rerun.push(ev);
        else if (chain.idsAfter.has(ev.id)) {
          rerun.push(ev);
          summary.late++;
        } else runner.restore(ev);
      }
      summary.restored += page.length - rerun.length;
      if (rerun.length === 0) continue;
      runner.onStored(rerun);
      await runner.settled();
      summary.rerun += rerun.length;
    }
  }
  summary.from = from;
  summary.to = range.last;
  log.info(
    {
      ...summary,
      from: new Date(from).toISOString(),
      to: new Date(range.last).toISOString(),
      checkpoint: checkpoint && {
        time: new Date(checkpoint.time).toISOString(),
        id: checkpoint.id,
        stored_seq: checkpoint.storedSeq,
      },
      ms: Math.round(performance.now() - started),
    },
    'detector state rebuilt from the log',
  );
  return summary;
}
