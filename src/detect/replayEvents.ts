import type { StoredEvent } from '../events/contract.js';
import type { Alert } from './alert.js';
import { Engine, type EngineOptions } from './engine.js';

/**
 * Run `events` through a fresh engine to the end of the stream and return every alert in its
 * final state (after repeats merged), in the order alerts opened. Rule fixtures and tests use
 * it; `choir replay` can print its result.
 */
export function replayEvents(
  events: Iterable<StoredEvent>,
  options: Omit<EngineOptions, 'onAlert'>,
): Alert[] {
  const alerts = new Map<string, Alert>();
  const engine = new Engine({ ...options, onAlert: (alert) => alerts.set(alert.id, alert) });
  for (const ev of events) engine.process(ev);
  engine.flush();
  return [...alerts.values()];
}
