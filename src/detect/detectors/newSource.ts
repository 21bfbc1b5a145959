import type { StoredEvent } from '../../events/contract.js';
import { formatNetwork, networkKey } from '../net.js';
import type { TokenRecord } from '../tokenRecord.js';
import { NETWORK_PARAMS, numberArray } from './networkParams.js';
import {
  type Detector,
  type DetectorDefinition,
  type DetectorOutput,
  type DetectorParams,
  setSlot,
  slotOf,
} from './types.js';

const DAY = 86_400_000;

/**
 * `new_source`: a token used from a network it was never used from, once its learning period
 * is over. Per-token state is one flat number array: [prefixes, learning start, net, last seen, …];
 * a change of prefixes re-keys every network, so such state restarts learning.
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
  create: ({ params, slot }) => new NewSource(params, slot),
};

class NewSource implements Detector {
  constructor(
    private p: DetectorParams,
    private readonly slot: number,
  ) {}

  configure(params: DetectorParams): void {
    this.p = params;
  }

  observe(ev: StoredEvent, token: TokenRecord | undefined, out: DetectorOutput): void {
    if (token === undefined) return;
    const net = networkKey(ev.source_ip, this.p.prefix_v4 as number, this.p.prefix_v6 as number);
    if (net < 0) return;
    const prefixes = (this.p.prefix_v4 as number) * 1000 + (this.p.prefix_v6 as number);
    let nets = slotOf(token, this.slot) as number[] | undefined;
    if (nets === undefined || nets[0] !== prefixes) {
      nets = [prefixes, ev.time];
      setSlot(token, this.slot, nets);
    }
    const forget = this.p.forget_after as number;
    for (let i = 2; i < nets.length; i += 2) {
      if (nets[i] !== net) continue;
      const last = nets[i + 1] as number;
      if (ev.time - last <= forget) {
        if (ev.time > last) nets[i + 1] = ev.time;
        return;
      }
      nets.splice(i, 2);
      break;
    }
    nets = this.remember(nets, net, ev.time);
    setSlot(token, this.slot, nets);
    const learning = ev.time < (nets[1] as number) + (this.p.learning_period as number);
    if (learning || out.silent) return;
    const network = formatNetwork(ev.source_ip, this.p.prefix_v4 as number, this.p.prefix_v6 as number);
    const known = nets.length / 2 - 2;
    out.emit(ev, token, {
      summary: `Token ${ev.token_id} used from new network ${network} (${known} known before)`,
      context: { network, known_networks: known },
    });
  }

  /** A new exact-size array (push() would leave spare capacity on every token). */
  private remember(nets: number[], net: number, time: number): number[] {
    if (nets.length / 2 - 1 >= (this.p.max_networks as number)) {
      let oldest = 2;
      for (let i = 4; i < nets.length; i += 2)
        if ((nets[i + 1] as number) < (nets[oldest + 1] as number)) oldest = i;
      nets.splice(oldest, 2);
    }
    return nets.concat(net, time);
  }

  inherit(state: unknown): unknown {
    // The successor of a rotated token keeps its networks and its finished learning period.
    return Array.isArray(state) ? [...state] : undefined;
  }

  exportState(state: unknown): unknown {
    return state;
  }

  importState(json: unknown): unknown {
    const nets = numberArray(json);
    return nets !== undefined && nets.length >= 2 && nets.length % 2 === 0 ? nets : undefined;
  }
}
