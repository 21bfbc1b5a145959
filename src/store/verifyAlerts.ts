import { ALERT_LOG_TABLE } from './chainedTables.js';
import type { Problem } from './checkLinks.js';
import type { Store } from './store.js';

/**
 * `alerts` is not chained itself (its ReplacingMergeTree merges versions away, see migration 5):
 * what makes it tamper-evident is that every state Choir saved there is also a link of alert_log.
 * So each stored row of `alerts` must equal a logged state (same fields, and updated_at = saved_at),
 * and every logged alert must still have a row. Rows merged away are older logged states, so a
 * merge never trips this; a change, a deletion or an insert behind Choir's back does.
 */
export async function unloggedAlerts(store: Pick<Store, 'query' | 'database'>): Promise<Problem[]> {
  const fields = ALERT_LOG_TABLE.form.names.filter((n) => n !== 'saved_at');
  const key = (time: string) => `sipHash128(${fields.join(', ')}, toUnixTimestamp64Milli(${time}))`;
  const db = store.database;
  const [r] = await store.query<{ n: number; ids: string[]; gone: number; gone_ids: string[] }>(
    `SELECT
       (SELECT count() FROM ${db}.alerts WHERE (id, ${key('updated_at')}) NOT IN
          (SELECT id, ${key('saved_at')} FROM ${db}.alert_log)) AS n,
       (SELECT groupArray(20)(id) FROM ${db}.alerts WHERE (id, ${key('updated_at')}) NOT IN
          (SELECT id, ${key('saved_at')} FROM ${db}.alert_log)) AS ids,
       (SELECT uniqExact(id) FROM ${db}.alert_log WHERE id NOT IN (SELECT id FROM ${db}.alerts)) AS gone,
       (SELECT groupUniqArray(20)(id) FROM ${db}.alert_log WHERE id NOT IN (SELECT id FROM ${db}.alerts)) AS gone_ids`,
  );
  const problems: Problem[] = [];
  const problem = (rows: number, ids: string[], detail: string) =>
    problems.push({ table: 'alerts', chain_id: '', batch_seq: null, kind: 'unlogged', rows, ids, detail });
  const n = Number(r?.n ?? 0);
  if (n > 0) {
    problem(
      n,
      r!.ids,
      `${n} alert row${n === 1 ? ' is' : 's are'} no state Choir logged in alert_log: changed or inserted behind ` +
        "Choir's back (or saved by a Choir older than migration 5)",
    );
  }
  const gone = Number(r?.gone ?? 0);
  if (gone > 0) {
    problem(
      gone,
      r!.gone_ids,
      `${gone} logged alert${gone === 1 ? ' has' : 's have'} no row in alerts: deleted behind Choir's back ` +
        '(or a save was interrupted between the log and the table; if Choir was saving just now, verify again)',
    );
  }
  return problems;
}
