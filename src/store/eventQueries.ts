import type { EventType, StoredEvent } from '../events/contract.js';
import { EVENTS_TABLE } from './chainedTables.js';
import { chainHead } from './chainWriter.js';
import type { Store } from './store.js';

/** Issuance facts of a token as stored (times epoch ms; null when it never happened). */
export interface IssuedToken {
  id: string;
  kind: string;
  principal: string;
  tenant: string;
  scopes: string[];
  allowed_cidrs: string[];
  issued_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  replaces: string;
}

const ms = (ts: number) => `fromUnixTimestamp64Milli(${Math.trunc(ts)}, 'UTC')`;

/** Earliest and latest event time in the log; null when it is empty. */
export async function eventTimeRange(store: Store): Promise<{ first: number; last: number } | null> {
  const [row] = await store.query<{ n: number; first: number; last: number }>(
    `SELECT count() AS n, toUnixTimestamp64Milli(min(time)) AS first, toUnixTimestamp64Milli(max(time)) AS last
     FROM ${store.database}.token_events`,
  );
  return row && Number(row.n) > 0 ? { first: Number(row.first), last: Number(row.last) } : null;
}

/**
 * One writer's place in its event chain: the last link's `batch_seq` (0 before its first insert),
 * and the ids of its events in [from, to] stored in links after `after`.
 */
export async function writerEventChain(
  store: Store,
  writerId: string,
  range: { after: number | null; from: number; to: number },
): Promise<{ head: number; idsAfter: Set<string> }> {
  const { seq: head } = await chainHead(store, EVENTS_TABLE.name, writerId);
  if (range.after === null || head <= range.after) return { head, idsAfter: new Set() };
  const rows = await store.query<{ id: string }>(
    `SELECT id FROM ${store.database}.${EVENTS_TABLE.name}
     WHERE time >= ${ms(range.from)} AND time <= ${ms(range.to)}
       AND chain_id = {w:String} AND batch_seq > {after:UInt64}`,
    { w: writerId, after: range.after },
  );
  return { head, idsAfter: new Set(rows.map((r) => r.id)) };
}

/**
 * Stored events with `from <= time <= to`, in (time, id) order, `pageRows` at a time. Hours are
 * first counted (cheap: the sort key starts with the hour) and grouped into spans of about a
 * page, so each query reads only its own hours; a span is paged by (time, id).
 */
export async function* readEvents(
  store: Store,
  range: { from: number; to: number; types?: readonly EventType[]; pageRows?: number },
): AsyncGenerator<StoredEvent[]> {
  const pageRows = range.pageRows ?? 50_000;
  const typeFilter = range.types ? `AND type IN (${range.types.map((t) => `'${t}'`).join(',')})` : '';
  const where = `time >= ${ms(range.from)} AND time <= ${ms(range.to)} ${typeFilter}`;
  const hours = await store.query<{ h: number; n: number }>(
    `SELECT toUnixTimestamp(toStartOfHour(time)) * 1000 AS h, count() AS n
     FROM ${store.database}.token_events WHERE ${where} GROUP BY h ORDER BY h`,
  );
  for (const span of spans(hours, pageRows)) {
    let after: { time: number; id: string } | null = null;
    for (;;) {
      const keyset = after
        ? `AND (time > ${ms(after.time)} OR (time = ${ms(after.time)} AND id > {id:String}))`
        : '';
      const rows = await store.query<EventRowJson>(
        `SELECT ${EVENT_SELECT} FROM ${store.database}.token_events
         WHERE ${where} AND time >= ${ms(span.from)} AND time < ${ms(span.to)} ${keyset}
         ORDER BY time, id LIMIT ${pageRows}`,
        { id: after?.id ?? '' },
      );
      if (rows.length === 0) break;
      const events = rows.map(toStoredEvent);
      yield events;
      if (rows.length < pageRows) break;
      const last = events[events.length - 1] as StoredEvent;
      after = { time: last.time, id: last.id };
    }
  }
}

/**
 * Tokens issued before `before`, with their latest issuance facts and earliest revocation before
 * it, in id order, `pageRows` at a time.
 */
export async function* readIssuedTokens(
  store: Store,
  opts: { before: number; pageRows?: number },
): AsyncGenerator<IssuedToken[]> {
  const pageRows = opts.pageRows ?? 50_000;
  let after = '';
  for (;;) {
    const rows = await store.query<IssuedToken>(
      `SELECT token_id AS id,
         argMaxIf(token_kind, time, type = 'token.issued') AS kind,
         argMaxIf(principal, time, type = 'token.issued') AS principal,
         argMaxIf(tenant, time, type = 'token.issued') AS tenant,
         argMaxIf(scopes, time, type = 'token.issued') AS scopes,
         argMaxIf(allowed_cidrs, time, type = 'token.issued') AS allowed_cidrs,
         toUnixTimestamp64Milli(maxIf(time, type = 'token.issued')) AS issued_at,
         -- a tuple keeps a NULL expiry (aggregates skip bare NULLs)
         toUnixTimestamp64Milli(argMaxIf(tuple(expires_at), time, type = 'token.issued').1) AS expires_at,
         if(countIf(type = 'token.revoked') > 0,
            toUnixTimestamp64Milli(minIf(time, type = 'token.revoked')), NULL) AS revoked_at,
         argMaxIf(replaces, time, type = 'token.issued') AS replaces
       FROM ${store.database}.token_events
       WHERE type IN ('token.issued', 'token.revoked') AND time < ${ms(opts.before)} AND token_id > {after:String}
       GROUP BY token_id HAVING countIf(type = 'token.issued') > 0
       ORDER BY token_id LIMIT ${pageRows}`,
      { after },
    );
    if (rows.length === 0) return;
    yield rows.map((r) => ({
      ...r,
      issued_at: numberOrNull(r.issued_at),
      expires_at: numberOrNull(r.expires_at),
      revoked_at: numberOrNull(r.revoked_at),
    }));
    if (rows.length < pageRows) return;
    after = (rows[rows.length - 1] as IssuedToken).id;
  }
}

/** Consecutive hours grouped into spans of about `pageRows` events; `to` is exclusive. */
function spans(
  hours: Array<{ h: number; n: number }>,
  pageRows: number,
): Array<{ from: number; to: number }> {
  const out: Array<{ from: number; to: number }> = [];
  let current: { from: number; to: number; n: number } | null = null;
  for (const { h, n } of hours) {
    const hour = Number(h);
    if (current && current.n + Number(n) > pageRows) {
      out.push(current);
      current = null;
    }
    current ??= { from: hour, to: hour, n: 0 };
    current.to = hour + 3_600_000;
    current.n += Number(n);
  }
  if (current) out.push(current);
  return out;
}

const EVENT_SELECT = `id, type, toUnixTimestamp64Milli(time) AS time_ms, token_id, token_kind, principal,
  scopes, toUnixTimestamp64Milli(expires_at) AS expires_ms, allowed_cidrs, replaces, request_scope,
  request_action, request_resource, request_method, request_path, source_ip, user_agent, status,
  reason, actor, tenant, source, attributes`;

type EventRowJson = Omit<StoredEvent, 'time' | 'expires_at' | 'raw'> & {
  time_ms: number;
  expires_ms: number | null;
};

function toStoredEvent(r: EventRowJson): StoredEvent {
  const { time_ms, expires_ms, ...rest } = r;
  // The payload is not read back: no detector looks at it, and it is most of a row's size.
  return {
    ...rest,
    time: Number(time_ms),
    expires_at: numberOrNull(expires_ms),
    status: Number(r.status),
    raw: '',
  };
}

function numberOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}
