import type { ChainStamp } from './chain.js';
import type { DeadLetter, EventRow } from './store.js';

/**
 * Rows as TabSeparated text: about half the bytes of JSONEachRow and the cheapest text format for
 * ClickHouse to parse, which is where an embedded insert spends its time. Both modes send the same bytes.
 */

export const EVENT_COLUMNS = [
  'id',
  'type',
  'time',
  'token_id',
  'token_kind',
  'principal',
  'scopes',
  'expires_at',
  'allowed_cidrs',
  'replaces',
  'request_scope',
  'request_action',
  'request_resource',
  'request_method',
  'request_path',
  'source_ip',
  'user_agent',
  'status',
  'reason',
  'actor',
  'tenant',
  'source',
  'attributes',
  'raw',
  'ingest_source',
  'ingest_partition',
  'ingest_offset',
  'ingested_at',
] as const satisfies readonly (keyof EventRow)[];

export const DEAD_LETTER_COLUMNS = [
  'id',
  'received_at',
  'source',
  'partition',
  'offset',
  'reason',
  'payload',
] as const satisfies readonly (keyof DeadLetter)[];

const NEEDS_ESCAPE = /[\\\t\n\r\0']/;

/** TSV field escaping; most values need none, so test before replacing. */
function esc(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r\0']/g, (c) => ESCAPES[c]!);
}
const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\0': '\\0',
  "'": "\\'",
};

function array(a: string[]): string {
  if (a.length === 0) return '[]';
  let out = '[';
  for (let i = 0; i < a.length; i++) out += `${i ? ',' : ''}'${esc(a[i]!)}'`;
  return `${out}]`;
}

function map(m: Record<string, string>): string {
  let out = '{';
  let first = true;
  for (const k in m) {
    out += `${first ? '' : ','}'${esc(k)}':'${esc(m[k]!)}'`;
    first = false;
  }
  return `${out}}`;
}

/** DateTime64(3) accepts epoch milliseconds as a plain integer. With `chain`, CHAIN_COLUMNS follow. */
export function encodeEvents(rows: EventRow[], chain?: ChainStamp): string {
  let out = '';
  const [first, rest] = chain ? chainFields(chain) : ['', ''];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out +=
      `${esc(r.id)}\t${r.type}\t${r.time}\t${esc(r.token_id)}\t${esc(r.token_kind)}\t${esc(r.principal)}\t` +
      `${array(r.scopes)}\t${r.expires_at === null ? '\\N' : r.expires_at}\t${array(r.allowed_cidrs)}\t` +
      `${esc(r.replaces)}\t${esc(r.request_scope)}\t${esc(r.request_action)}\t${esc(r.request_resource)}\t` +
      `${esc(r.request_method)}\t${esc(r.request_path)}\t${esc(r.source_ip)}\t${esc(r.user_agent)}\t${r.status}\t` +
      `${esc(r.reason)}\t${esc(r.actor)}\t${esc(r.tenant)}\t${esc(r.source)}\t${map(r.attributes)}\t${esc(r.raw)}\t` +
      `${esc(r.ingest_source)}\t${r.ingest_partition}\t${r.ingest_offset}\t${r.ingested_at}` +
      `${chain ? `${i === 0 ? first : rest}${chain.rowHashes[i]}` : ''}\n`;
  }
  return out;
}

export function encodeDeadLetters(rows: DeadLetter[], chain?: ChainStamp): string {
  let out = '';
  const [first, rest] = chain ? chainFields(chain) : ['', ''];
  for (let i = 0; i < rows.length; i++) {
    const d = rows[i]!;
    out += `${d.id}\t${d.received_at}\t${esc(d.source)}\t${d.partition}\t${d.offset}\t${esc(d.reason)}\t${esc(d.payload)}`;
    out += `${chain ? `${i === 0 ? first : rest}${chain.rowHashes[i]}` : ''}\n`;
  }
  return out;
}

/**
 * The chain columns but `row_hash`, each after a tab: for the first row, and for the others, which
 * leave the link's three hashes empty (one copy per insert is enough; see chain.ts).
 */
function chainFields({ link: l }: ChainStamp): [string, string] {
  const common = `\t${esc(l.chain_id)}\t${l.batch_seq}\t${l.batch_rows}\t${l.batch_time}\t`;
  return [`${common}${l.prev_hash}\t${l.batch_hash}\t${l.signature}\t`, `${common}\t\t\t`];
}
