import type { Rows } from '../../src/ingest/toRows.js';

/**
 * Rows field by field, for comparing rows decoded in a worker with rows decoded inline: a
 * structured clone drops the symbol-keyed slot a row keeps its encoding in (ROW_ENCODING).
 */
export const rowFields = (rows: Rows) => ({
  ...rows,
  events: rows.events.map((e) => Object.fromEntries(Object.entries(e))),
});
