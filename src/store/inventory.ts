import type { Store } from './store.js';
import { type TokenState, type TokenStatus, type TokenUsage, tokenStateSql } from './tokenState.js';

/** One token of the inventory: what it is, what it may do, what it did, and what is open about it. */
export interface InventoryToken extends TokenState, TokenUsage {
  /** Granted scopes no use needed (a `*` grant counts as used when a use fell under it): over-privilege. */
  unused_scopes: string[];
  /** Alerts on this token still `open`. */
  open_alerts: number;
}

export interface InventoryFilter {
  /** Event time the statuses and counts are evaluated at (epoch ms). */
  asOf: number;
  status?: TokenStatus;
  principal?: string;
}

/**
 * The token inventory: one query over the log (and the alerts table, when it exists), by
 * principal then token. Tokens used but never issued are listed with status `unknown`.
 */
export async function tokenInventory(store: Store, filter: InventoryFilter): Promise<InventoryToken[]> {
  const db = store.database;
  const openAlerts = (await hasTable(store, 'alerts'))
    ? `LEFT JOIN (
         SELECT token_id AS alerted_token, count() AS open_alerts FROM ${db}.alerts FINAL
         WHERE status = 'open' AND token_id != '' GROUP BY token_id
       ) AS a ON a.alerted_token = s.token_id`
    : '';
  const rows = await store.query<InventoryToken>(
    `SELECT s.*,
       arrayFilter(g -> NOT arrayExists(
         u -> u = g OR (endsWith(g, '*') AND startsWith(u, substring(g, 1, length(g) - 1))),
         s.used_scopes), s.scopes) AS unused_scopes,
       ${openAlerts ? 'a.open_alerts' : 'toUInt64(0)'} AS open_alerts
     FROM (${tokenStateSql(db, { usage: true })}) AS s
     ${openAlerts}
     WHERE ({status:String} = '' OR s.status = {status:String})
       AND ({principal:String} = '' OR s.principal = {principal:String})
     ORDER BY s.principal, s.kind, s.token_id`,
    { as_of: Math.floor(filter.asOf), status: filter.status ?? '', principal: filter.principal ?? '' },
  );
  return rows.map((r) => ({ ...r, open_alerts: Number(r.open_alerts) }));
}

async function hasTable(store: Store, name: string): Promise<boolean> {
  const rows = await store.query<{ n: number }>(
    'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    { db: store.database, name },
  );
  return Number(rows[0]?.n ?? 0) > 0;
}
