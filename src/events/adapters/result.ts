import type { AdapterResult } from './types.js';

/** Shorthands for the two non-event results, so each adapter's early returns read as one line. */
export const result = {
  invalid(reason: string): AdapterResult {
    return { kind: 'invalid', reason };
  },
  ignored(reason: string): AdapterResult {
    return { kind: 'ignored', reason };
  },
};
