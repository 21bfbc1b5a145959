import type { StoredEvent } from '../../events/contract.js';
import { EVIDENCE_CAP } from '../alert.js';
import { MinHeap } from '../minHeap.js';
import type { TokenRecord } from '../tokenRecord.js';
import type { Detector, DetectorDefinition, DetectorOutput, DetectorParams } from './types.js';

const MAX_PENDING = 100_000;

interface Pending {
  events: StoredEvent[];
  /** Uses beyond the evidence kept. */
  more: number;
}

/**
 * `unknown_token`: a token used that was never issued. The verdict waits `grace` of event
 * time (the issuer's event may arrive after the gateway's), and tokens used during the first
 * `bootstrap` of the history are taken as issued before it: a store that starts today has
 * never seen last year's issuances. A store can also seed known tokens (Engine.seedToken).
 */
export const unknownToken: DetectorDefinition = {
  kind: 'unknown_token',
  defaultCondition: 'event.type == "token.used"',
  params: {
    grace: {
      type: 'duration',
      default: 60_000,
      min: 0,
      max: 86_400_000,
      desc: 'wait this long of event time for a late issuance',
    },
    bootstrap: {
      type: 'duration',
      default: 0,
      min: 0,
      desc: 'unknown tokens used this soon after the first event are pre-existing',
    },
  },
  create: ({ params }) => new UnknownToken(params),
};

class UnknownToken implements Detector {
  private readonly pending = new Map<string, Pending>();
  private readonly due = new MinHeap();

  constructor(private p: DetectorParams) {}

  configure(params: DetectorParams): void {
    this.p = params;
  }

  observe(ev: StoredEvent, token: TokenRecord | undefined, out: DetectorOutput): void {
    if (token !== undefined && (token.known || token.preexisting)) return;
    if (out.silent || ev.time < out.firstEventTime + (this.p.bootstrap as number)) {
      out.markPreexisting(ev.token_id, ev.time);
      return;
    }
    const waiting = this.pending.get(ev.token_id);
    if (waiting !== undefined) {
      if (waiting.events.length < EVIDENCE_CAP) waiting.events.push(ev);
      else waiting.more++;
      return;
    }
    this.pending.set(ev.token_id, { events: [ev], more: 0 });
    this.due.push(ev.time + (this.p.grace as number), ev.token_id);
    // Never drop: over capacity, decide early on the oldest rather than forget it.
    while (this.pending.size > MAX_PENDING) this.fire(this.due.pop(), out);
  }

  advance(watermark: number, out: DetectorOutput): void {
    while (this.due.size > 0 && this.due.peek() <= watermark) this.fire(this.due.pop(), out);
  }

  private fire(tokenId: string | undefined, out: DetectorOutput): void {
    const waiting = tokenId === undefined ? undefined : this.pending.get(tokenId);
    if (tokenId === undefined || waiting === undefined) return;
    this.pending.delete(tokenId);
    const token = out.lookup(tokenId);
    if (token !== undefined && (token.known || token.preexisting)) return;
    const last = waiting.events.length - 1;
    waiting.events.forEach((ev, i) => {
      out.emit(ev, token, {
        summary: `Token ${tokenId} was used but never issued`,
        context: { grace_ms: this.p.grace as number },
        count: i === last ? 1 + waiting.more : 1,
      });
    });
  }

  snapshot(): unknown {
    return [...this.pending].map(([id, p]) => ({ id, events: p.events, more: p.more }));
  }

  restore(json: unknown): void {
    if (!Array.isArray(json)) return;
    for (const entry of json as Array<{ id: string; events: StoredEvent[]; more: number }>) {
      const first = entry?.events?.[0];
      if (typeof entry.id !== 'string' || first === undefined) continue;
      this.pending.set(entry.id, { events: entry.events, more: Number(entry.more) || 0 });
      this.due.push(first.time + (this.p.grace as number), entry.id);
    }
  }
}
