import { createHash } from 'node:crypto';

const MAX_ID = 128;

/**
 * Deterministic event id from the audit log's own record id (`k8s:<auditID>:used`), so a
 * redelivered record becomes the same event and the store collapses it. An id longer than the
 * contract's 128 chars keeps its first part and a hash of the whole: still deterministic.
 */
export function eventId(...parts: string[]): string {
  const id = parts.join(':');
  if (id.length <= MAX_ID) return id;
  return `${parts[0]}:sha256:${createHash('sha256').update(id).digest('hex')}`;
}
