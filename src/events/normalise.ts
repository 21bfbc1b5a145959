import { LATEST_STORABLE_MS, ROW_ENCODING, type StoredEvent, type TokenEvent } from './contract.js';

const KNOWN_TOP = new Set([
  'id',
  'type',
  'time',
  'token',
  'request',
  'reason',
  'actor',
  'principal',
  'tenant',
  'source',
  'attributes',
]);
const KNOWN_TOKEN = new Set(['id', 'kind', 'principal', 'scopes', 'expires_at', 'allowed_cidrs', 'replaces']);
const KNOWN_REQUEST = new Set([
  'scope',
  'action',
  'resource',
  'method',
  'path',
  'source_ip',
  'user_agent',
  'status',
]);
const EMPTY: string[] = [];
/** The attributes of every event that has none: shared, so frozen. */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze({});

/**
 * Flatten a valid contract-v1 event into the stored row. Unknown fields land in `attributes`, never
 * dropped. `time` is `e.time` in epoch ms, when the caller parsed it already (validate()).
 */
export function normalise(e: TokenEvent, raw: string, time = Date.parse(e.time)): StoredEvent {
  const t = e.token;
  const r = e.request;
  let attributes = e.attributes ?? NO_ATTRIBUTES;
  const extra = unknownFields(e);
  if (extra) attributes = { ...attributes, ...extra };
  let expiresAt = t?.expires_at ? Date.parse(t.expires_at) : null;
  if (expiresAt !== null && expiresAt > LATEST_STORABLE_MS) {
    // "Never" written as a far date (9999-12-31): no expiry, and the issuer's text is kept.
    attributes = { ...attributes, 'token.expires_at': t!.expires_at! };
    expiresAt = null;
  }
  // Rows live for a while (batch, insert, detection), so the GC copies and marks them: each one
  // object, without a separate property array. Hence the fields toRows stamps and the slot of the
  // row's encoding are declared here (added later, they go to a property array of their own), and
  // as undefined (declared as numbers, every row would get a box of its own for ingested_at).
  const row = {
    id: e.id,
    type: e.type,
    time,
    token_id: t?.id ?? '',
    token_kind: t?.kind ?? '',
    principal: t?.principal ?? (e.type === 'principal.disabled' ? (e.principal ?? '') : ''),
    scopes: t?.scopes ?? EMPTY,
    expires_at: expiresAt,
    allowed_cidrs: t?.allowed_cidrs ?? EMPTY,
    replaces: t?.replaces ?? '',
    request_scope: r?.scope ?? '',
    request_action: r?.action ?? '',
    request_resource: r?.resource ?? '',
    request_method: r?.method ?? '',
    request_path: r?.path ?? '',
    source_ip: r?.source_ip ?? '',
    user_agent: r?.user_agent ?? '',
    status: r?.status ?? 0,
    reason: e.reason ?? '',
    actor: e.actor ?? '',
    tenant: e.tenant ?? '',
    source: e.source ?? '',
    attributes,
    raw,
    ingest_source: undefined,
    ingest_partition: undefined,
    ingest_offset: undefined,
    ingested_at: undefined,
    [ROW_ENCODING]: undefined,
  };
  return row;
}

function unknownFields(e: TokenEvent): Record<string, string> | null {
  let out: Record<string, string> | null = null;
  for (const k in e) if (!KNOWN_TOP.has(k)) out = keep(out, k, (e as unknown as Record<string, unknown>)[k]);
  for (const k in e.token)
    if (!KNOWN_TOKEN.has(k)) out = keep(out, `token.${k}`, (e.token as Record<string, unknown>)[k]);
  for (const k in e.request)
    if (!KNOWN_REQUEST.has(k)) out = keep(out, `request.${k}`, (e.request as Record<string, unknown>)[k]);
  return out;
}

/** An unknown field as an attribute: strings as they are, anything else as JSON. */
function keep(out: Record<string, string> | null, key: string, v: unknown): Record<string, string> {
  const o = out ?? {};
  o[key] = typeof v === 'string' ? v : JSON.stringify(v);
  return o;
}
