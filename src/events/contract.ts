/** Contract v1 as Choir's code sees it. The JSON Schema in schema/event-v1.schema.json is the wire truth. */

export const EVENT_TYPES = ['token.issued', 'token.used', 'token.revoked', 'principal.disabled'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A contract-v1 event as it arrives (after JSON parsing), before normalisation. */
export interface TokenEvent {
  id: string;
  type: EventType;
  time: string;
  token?: {
    id: string;
    kind?: string;
    principal?: string;
    scopes?: string[];
    expires_at?: string;
    allowed_cidrs?: string[];
    replaces?: string;
  };
  request?: {
    scope?: string;
    action?: string;
    resource?: string;
    method?: string;
    path?: string;
    source_ip?: string;
    user_agent?: string;
    status?: number;
  };
  reason?: string;
  actor?: string;
  principal?: string;
  tenant?: string;
  source?: string;
  attributes?: Record<string, string>;
}

/**
 * One row of `token_events`: the event flattened, times as epoch milliseconds,
 * plus where it came from. Every detector and query reads this shape.
 */
export interface StoredEvent {
  id: string;
  type: EventType;
  /** Event time, epoch milliseconds. */
  time: number;
  token_id: string;
  token_kind: string;
  /** Owner of the token: `token.principal`, or the disabled `principal` for principal.disabled. */
  principal: string;
  scopes: string[];
  /** Epoch milliseconds, or null when the token does not expire. */
  expires_at: number | null;
  allowed_cidrs: string[];
  replaces: string;
  request_scope: string;
  request_action: string;
  request_resource: string;
  request_method: string;
  request_path: string;
  source_ip: string;
  user_agent: string;
  /** HTTP status the API answered; 0 when not a use. */
  status: number;
  reason: string;
  actor: string;
  tenant: string;
  source: string;
  attributes: Record<string, string>;
  /** The original payload as received (with secret-looking values redacted). */
  raw: string;
}

/**
 * The slot on a row where storage keeps the row's encoded line (store/canonicalForm.ts). normalise
 * declares it on every row it makes, so that V8 keeps it inside the object with the other fields.
 */
export const ROW_ENCODING: unique symbol = Symbol('row encoding');

/**
 * Stored times are epoch milliseconds with 13 digits, the range ClickHouse's DateTime64(3) reads
 * back exactly from Choir's inserts: 2001-09-09 to 2286-11-20.
 */
export const EARLIEST_STORABLE_MS = 1e12;
export const LATEST_STORABLE_MS = 1e13 - 1;
