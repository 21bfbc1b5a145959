import type { StoredEvent } from '../events/contract.js';

const EMPTY_EVENT = {} as StoredEvent;

/**
 * The current event as CEL sees it (fields and types: EVENT_FIELDS in celEnv.ts). One view
 * per engine is repointed at each event, so evaluating a rule copies nothing.
 */
// biome-ignore format: one getter per line reads as the table of fields it is
export class EventView {
  ev: StoredEvent = EMPTY_EVENT;
  get id() { return this.ev.id; }
  get type() { return this.ev.type; }
  get time() { return this.ev.time; }
  get token_id() { return this.ev.token_id; }
  get token_kind() { return this.ev.token_kind; }
  get principal() { return this.ev.principal; }
  get scopes() { return this.ev.scopes; }
  get expires_at() { return this.ev.expires_at ?? Number.POSITIVE_INFINITY; }
  get allowed_cidrs() { return this.ev.allowed_cidrs; }
  get replaces() { return this.ev.replaces; }
  get request_scope() { return this.ev.request_scope; }
  get request_action() { return this.ev.request_action; }
  get request_resource() { return this.ev.request_resource; }
  get request_method() { return this.ev.request_method; }
  get request_path() { return this.ev.request_path; }
  get source_ip() { return this.ev.source_ip; }
  get user_agent() { return this.ev.user_agent; }
  get status() { return this.ev.status; }
  get reason() { return this.ev.reason; }
  get actor() { return this.ev.actor; }
  get tenant() { return this.ev.tenant; }
  get source() { return this.ev.source; }
  get attributes() { return this.ev.attributes; }
}

/** The principal of the current event; `disabled_at` is looked up only when a rule reads it. */
export class PrincipalView {
  name = '';
  constructor(private readonly lookupDisabledAt: (principal: string) => number) {}
  get disabled_at(): number {
    return this.name === '' ? Number.POSITIVE_INFINITY : this.lookupDisabledAt(this.name);
  }
}
