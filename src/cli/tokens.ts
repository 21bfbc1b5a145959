import { ChoirError } from '../errors.js';
import { openStore } from '../index.js';
import { type InventoryToken, tokenInventory } from '../store/inventory.js';
import type { TokenStatus } from '../store/tokenState.js';
import { cliContext } from './context.js';
import type { CliArgs } from './main.js';

const STATUSES: TokenStatus[] = ['active', 'expired', 'revoked', 'unknown'];

/** `choir tokens [--status S] [--principal P] [--as-of TIME] [--json]`: the token inventory. */
export async function tokensCommand(args: CliArgs): Promise<number> {
  if (args.status !== undefined && !STATUSES.includes(args.status as TokenStatus)) {
    throw new ChoirError(
      'INPUT_INVALID',
      `--status must be one of ${STATUSES.join(', ')}, got "${args.status}"`,
    );
  }
  // An inventory is a look at the log for a person, not detection: "now" is the wall clock unless told.
  const asOf = args['as-of'] === undefined ? Date.now() : Date.parse(args['as-of']);
  if (Number.isNaN(asOf)) {
    throw new ChoirError(
      'INPUT_INVALID',
      `--as-of must be a time such as 2026-01-01T00:00:00Z, got "${args['as-of']}"`,
    );
  }
  const { config, logger } = cliContext(args);
  const store = await openStore(config, logger);
  let tokens: InventoryToken[];
  try {
    tokens = await tokenInventory(store, {
      asOf,
      status: args.status as TokenStatus | undefined,
      principal: args.principal,
    });
  } finally {
    await store.close();
  }
  const out = args.json ? tokens.map((t) => JSON.stringify(tokenJson(t))) : table(tokens);
  if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The JSON line of one token: times as RFC 3339, null when they never happened. */
export function tokenJson(t: InventoryToken): Record<string, unknown> {
  return {
    token_id: t.token_id,
    kind: t.kind,
    principal: t.principal,
    tenant: t.tenant,
    status: t.status,
    issued_at: iso(t.issued_at),
    expires_at: iso(t.expires_at),
    revoked_at: iso(t.revoked_at),
    first_used_at: iso(t.first_used_at),
    last_used_at: iso(t.last_used_at),
    uses: t.uses,
    sources: t.sources,
    last_source_ip: t.last_source_ip,
    scopes: t.scopes,
    used_scopes: t.used_scopes,
    unused_scopes: t.unused_scopes,
    replaces: t.replaces,
    replaced_by: t.replaced_by,
    principal_disabled_at: iso(t.disabled_at),
    open_alerts: t.open_alerts,
  };
}

const HEADER = ['TOKEN', 'KIND', 'PRINCIPAL', 'STATUS', 'ISSUED', 'EXPIRES', 'LAST USED', 'USES', 'SOURCES'];

/** Columns of counts, aligned right. */
const NUMERIC = new Set([7, 8, 11]);

/** Aligned columns, then one line of totals. */
function table(tokens: InventoryToken[]): string[] {
  const day = (ms: number | null, none: string) =>
    ms === null ? none : new Date(ms).toISOString().slice(0, 10);
  const rows = tokens.map((t) => [
    t.token_id,
    t.kind || '-',
    t.principal || '-',
    t.status,
    day(t.issued_at, '-'),
    day(t.expires_at, 'never'),
    day(t.last_used_at, 'never'),
    String(t.uses),
    String(t.sources),
    `${t.scopes.length - t.unused_scopes.length}/${t.scopes.length}`,
    t.unused_scopes.join(',') || '-',
    String(t.open_alerts),
  ]);
  const all = [[...HEADER, 'SCOPES USED', 'UNUSED SCOPES', 'OPEN ALERTS'], ...rows];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const lines = all.map((r) =>
    r
      .map((cell, i) => (NUMERIC.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  const count = (s: TokenStatus) => tokens.filter((t) => t.status === s).length;
  lines.push(
    `${tokens.length} tokens: ${STATUSES.map((s) => `${count(s)} ${s}`).join(', ')}; ` +
      `${tokens.filter((t) => t.unused_scopes.length > 0).length} with unused scopes, ` +
      `${tokens.filter((t) => t.open_alerts > 0).length} with open alerts`,
  );
  return lines;
}
