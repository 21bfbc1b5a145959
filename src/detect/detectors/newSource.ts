import type { StoredEvent } from '../../events/contract.js';
import { formatNetwork, networkKey } from '../net.js';
import type { TokenRecord } from '../tokenRecord.js';
import { NETWORK_PARAMS, numberArray } from './networkParams.js';
import { NumberColumn, PairLists } from './pairLists.js';
import type { Detector, DetectorDefinition, DetectorOutput, DetectorParams } from './types.js';

const DAY = 86_400_000;

/**
 * `new_source`: a token used from a network it was never used from, once its learning period
 * is over. Per token: the start of its learning period and its (network, last seen) pairs; a
 * change of prefixes re-keys every network, so it restarts learning for every token.
 */
export const newSource: DetectorDefinition = {
  kind: 'new_source',
  defaultCondition: 'event.type == "token.used" && event.source_ip != ""',
  params: {
    learning_period: {
      type: 'duration',
      default: 7 * DAY,
      min: 0,
      desc: 'after its first use a token learns networks silently for this long',
    },
    max_networks: {
      type: 'number',
      default: 32,
      min: 1,
      max: 1024,
      desc: 'networks remembered per token (least recent forgotten)',
    },
    forget_after: {
      type: 'duration',
      default: 45 * DAY,
      min: DAY,
      desc: 'a network unused this long is new again',
    },
    ...NETWORK_PARAMS,
  },
  create: ({ params }) => new NewSource(params),
};

function prefixesOf(p: DetectorParams): number {
  return (p.prefix_v4 as number) * 1000 + (p.prefix_v6 as number);
}

class NewSource implements Detector {
  /** Start of each token's learning period; NaN: no state. */
  private readonly since = new NumberColumn();
  private readonly nets = new PairLists();
  private prefixes: number;

  constructor(private p: DetectorParams) {
    this.prefixes = prefixesOf(p);
  }

  configure(params: DetectorParams): void {
    this.p = params;
    if (prefixesOf(params) === this.prefixes) return;
    this.prefixes = prefixesOf(params);
    this.since.clearAll();
    this.nets.clearAll();
  }

  observe(ev: StoredEvent, token: TokenRecord | undefined, out: DetectorOutput): void {
    if (token === undefined) return;
    const net = networkKey(ev.source_ip, this.p.prefix_v4 as number, this.p.prefix_v6 as number);
    if (net < 0) return;
    const n = token.n;
    let start = this.since.get(n);
    if (Number.isNaN(start)) {
      start = ev.time;
      this.since.set(n, start);
    }
    let nets = this.nets.get(n) ?? [];
    const forget = this.p.forget_after as number;
    for (let i = 0; i < nets.length; i += 2) {
      if (nets[i] !== net) continue;
      const last = nets[i + 1] as number;
      if (ev.time - last <= forget) {
        if (ev.time > last) {
          nets[i + 1] = ev.time;
          this.nets.put(n, nets);
        }
        return;
      }
      nets.splice(i, 2);
      break;
    }
    nets = this.remember(nets, net, ev.time);
    this.nets.put(n, nets);
    const learning = ev.time < start + (this.p.learning_period as number);
    if (learning || out.silent) return;
    const network = formatNetwork(ev.source_ip, this.p.prefix_v4 as number, this.p.prefix_v6 as number);
    const known = nets.length / 2 - 1;
    out.emit(ev, token, {
      summary: `Token ${ev.token_id} used from new network ${network} (${known} known before)`,
      context: { network, known_networks: known },
    });
  }

  /** A new exact-size array (push() would leave spare capacity on every token). */
  private remember(nets: number[], net: number, time: number): number[] {
    if (nets.length / 2 >= (this.p.max_networks as number)) {
      let oldest = 0;
      for (let i = 2; i < nets.length; i += 2)
        if ((nets[i + 1] as number) < (nets[oldest + 1] as number)) oldest = i;
      nets.splice(oldest, 2);
    }
    return nets.concat(net, time);
  }

  release(n: number): void {
    if (Number.isNaN(this.since.get(n))) return;
    this.since.set(n, Number.NaN);
    this.nets.clear(n);
  }

  inherit(from: number, to: number): void {
    // The successor of a rotated token keeps its networks and its finished learning period.
    const start = this.since.get(from);
    if (Number.isNaN(start)) return;
    this.since.set(to, start);
    this.nets.put(to, [...(this.nets.get(from) ?? [])]);
  }

  /** [prefixes, learning start, net, last seen, …], as snapshots have always held it. */
  exportState(n: number): unknown {
    const start = this.since.get(n);
    return Number.isNaN(start) ? undefined : [this.prefixes, start, ...(this.nets.get(n) ?? [])];
  }

  importState(n: number, json: unknown): void {
    const state = numberArray(json);
    // State keyed by other prefixes would restart learning at the next use anyway.
    if (state === undefined || state.length < 2 || state.length % 2 !== 0 || state[0] !== this.prefixes)
      return;
    this.since.set(n, state[1] as number);
    this.nets.put(n, state.slice(2));
  }
}
