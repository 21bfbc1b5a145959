import type { AlertStore, Checkpoint } from '../store/alertStore.js';
import type { Alert } from './alert.js';

/** An in-memory alert store that keeps the highest count per id, as ReplacingMergeTree(version = count) does. */
export function fakeAlertStore(initial: Alert[] = []) {
  const rows = new Map(initial.map((a) => [a.id, a]));
  const saves: number[] = [];
  const checkpoints: Checkpoint[] = [];
  const store: AlertStore = {
    async save(alerts) {
      saves.push(alerts.length);
      for (const a of alerts)
        if ((rows.get(a.id)?.count ?? -1) <= a.count) rows.set(a.id, structuredClone(a));
    },
    async list() {
      return [...rows.values()].sort((a, b) => a.first_seen - b.first_seen || a.id.localeCompare(b.id));
    },
    async get(ids) {
      return ids.flatMap((id) => (rows.has(id) ? [structuredClone(rows.get(id) as Alert)] : []));
    },
    async checkpoint() {
      return checkpoints.at(-1) ?? null;
    },
    async saveCheckpoint(at) {
      checkpoints.push({ ...at });
    },
  };
  return { store, saves, rows, checkpoints };
}
