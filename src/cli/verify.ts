import { openStore } from '../index.js';
import type { Problem } from '../store/checkLinks.js';
import { type VerifyReport, verifyLog } from '../store/verify.js';
import { cliContext } from './context.js';
import type { CliArgs } from './main.js';

/** `choir verify [--from ISO] [--to ISO] [--json]`: exit 0 when the log is intact, 1 when it was tampered with. */
export async function verifyCommand(args: CliArgs): Promise<number> {
  const from = instant(args.from, '--from');
  const to = instant(args.to, '--to');
  if (from === null || to === null) return 2;
  const { config, logger } = cliContext(args);
  const store = await openStore(config, logger);
  let report: VerifyReport;
  try {
    report = await verifyLog({
      store,
      key: config.security.chain_key,
      from,
      to,
      retentionDays: config.storage.retention_days,
    });
  } finally {
    await store.close();
  }
  process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : summary(report));
  return report.intact ? 0 : 1;
}

/** undefined when not given, null (after a message) when not a time. */
function instant(value: string | undefined, flag: string): number | undefined | null {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    process.stderr.write(
      `choir verify: ${flag} must be an RFC 3339 time such as 2026-01-31T00:00:00Z, got "${value}"\n`,
    );
    return null;
  }
  return ms;
}

const fmt = (n: number) => n.toLocaleString('en-US');

function summary(r: VerifyReport): string {
  const lines: string[] = [];
  const range =
    r.range.from || r.range.to ? `links written ${r.range.from ?? '…'} to ${r.range.to ?? '…'}` : 'all links';
  lines.push(
    `choir verify: ${range}; signatures ${r.signatures === 'checked' ? 'checked' : 'not checked (no security.chain_key)'}`,
  );
  const broken = new Set(r.problems.map((p) => `${p.table}\0${p.chain_id}`));
  for (const c of r.chains) {
    const state = broken.has(`${c.table}\0${c.chain_id}`) ? 'TAMPERED' : 'intact';
    lines.push(
      `  ${c.table.padEnd(13)} chain ${c.chain_id}  batches ${c.first_seq}–${c.last_seq}  ${fmt(c.rows)} rows  ${state}` +
        `  head ${c.head_hash.slice(0, 16)}…`,
    );
  }
  if (r.chains.length === 0) lines.push('  no chained batches in range');
  lines.push(
    `verified ${fmt(r.rows)} rows in ${fmt(r.links)} batches, ${r.seconds}s (${fmt(r.rows_per_s)} rows/s): ` +
      (r.intact ? 'INTACT' : `TAMPERED, ${r.problems_total} problem${r.problems_total === 1 ? '' : 's'}`),
  );
  for (const p of r.problems) lines.push(`  ${where(p)}: ${p.kind} — ${p.detail}${ids(p)}`);
  if (r.problems_total > r.problems.length)
    lines.push(`  … and ${r.problems_total - r.problems.length} more (--json)`);
  if (r.first_broken) lines.push(`first broken: ${where(r.first_broken)} (${r.first_broken.kind})`);
  return `${lines.join('\n')}\n`;
}

function where(p: Problem): string {
  return p.batch_seq === null ? `${p.table}` : `${p.table} chain ${p.chain_id} batch ${p.batch_seq}`;
}

function ids(p: Problem): string {
  return p.ids.length
    ? ` (ids: ${p.ids.join(', ')}${p.rows !== null && p.rows > p.ids.length ? ', …' : ''})`
    : '';
}
