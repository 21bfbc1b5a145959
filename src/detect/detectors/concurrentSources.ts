import type { StoredEvent } from '../../events/contract.js';
import { formatNetwork, networkKey } from '../net.js';
import type { TokenRecord } from '../tokenRecord.js';
import { NETWORK_PARAMS, numberArray } from './networkParams.js';
import { PairLists } from './pairLists.js';
import type { Detector, DetectorDefinition, DetectorOutput, DetectorParams } from './types.js';

const MINUTE = 60_000;
const MAX_TRACKED = 64;

/**
 * `concurrent_sources`: one token used from several networks within a few minutes — a token
 * copied to a second machine. Per-token state: (net, last seen) pairs; entries older than the
 * window are dead and get reused.
 * Only the event that brings a new network into the window alerts, so a shared token in use
 * does not alert on every request.
 */
export const concurrentSources: DetectorDefinition = {
  kind: 'concurrent_sources',
  defaultCondition: 'event.type == "token.used" && event.source_ip != ""',
  params: {
    window: {
      type: 'duration',
      default: 5 * MINUTE,
      min: 1_000,
      max: 24 * 60 * MINUTE,
      desc: 'how close in time uses count as concurrent',
    },
    min_networks: {
      type: 'number',
      default: 3,
      min: 2,
      max: MAX_TRACKED,
      desc: 'distinct networks within the window that alert',
    },
    ...NETWORK_PARAMS,
  },
  create: ({ params }) => new ConcurrentSources(params),
};

class ConcurrentSources implements Detector {
  private readonly nets = new PairLists();

  constructor(private p: DetectorParams) {}

  configure(params: DetectorParams): void {
    this.p = params;
  }

  observe(ev: StoredEvent, token: TokenRecord | undefined, out: DetectorOutput): void {
    if (token === undefined) return;
    const net = networkKey(ev.source_ip, this.p.prefix_v4 as number, this.p.prefix_v6 as number);
    if (net < 0) return;
    let nets = this.nets.get(token.n);
    if (nets === undefined) {
      this.nets.put(token.n, [net, ev.time]);
      return;
    }
    const since = ev.time - (this.p.window as number);
    let found = -1;
    let free = -1;
    let inWindow = 0;
    for (let i = 0; i < nets.length; i += 2) {
      const live = (nets[i + 1] as number) >= since;
      if (nets[i] === net) found = i;
      else if (live) inWindow++;
      else if (free < 0) free = i;
    }
    if (found >= 0 && (nets[found + 1] as number) >= since) {
      // The common case, a network already in the window: touch it.
      if (ev.time > (nets[found + 1] as number)) {
        nets[found + 1] = ev.time;
        this.nets.put(token.n, nets);
      }
      return;
    }
    // Entries that left the window are reused in place, so steady state allocates nothing.
    const at = found >= 0 ? found : free;
    if (at >= 0) {
      nets[at] = net;
      nets[at + 1] = ev.time;
      this.nets.put(token.n, nets);
    } else if (nets.length < 2 * MAX_TRACKED) {
      nets = nets.concat(net, ev.time);
      this.nets.put(token.n, nets);
    }
    const count = inWindow + 1;
    if (count < (this.p.min_networks as number) || out.silent) return;
    const network = formatNetwork(ev.source_ip, this.p.prefix_v4 as number, this.p.prefix_v6 as number);
    out.emit(ev, token, {
      summary: `Token ${ev.token_id} used from ${count} networks within ${Math.round((this.p.window as number) / 1000)}s (latest ${network})`,
      context: { networks: count, latest_network: network, window_ms: this.p.window as number },
    });
  }

  release(n: number): void {
    this.nets.clear(n);
  }

  exportState(n: number): unknown {
    const nets = this.nets.get(n);
    return nets === undefined ? undefined : [...nets];
  }

  importState(n: number, json: unknown): void {
    const nets = numberArray(json);
    if (nets !== undefined && nets.length >= 2 && nets.length % 2 === 0) this.nets.put(n, nets);
  }
}
