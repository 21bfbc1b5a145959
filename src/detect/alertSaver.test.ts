import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Alert } from './alert.js';
import { AlertSaver } from './alertSaver.js';
import { fakeAlertStore } from './fakeAlertStore.js';

const logger = pino({ level: 'silent' });
const T = Date.UTC(2026, 0, 1);

function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'a1',
    kind: 'stale_unused',
    rule: 'Token unused for a long time',
    severity: 'low',
    token_id: 't1',
    principal: 'sa-ci',
    tenant: '',
    first_seen: T,
    last_seen: T,
    count: 1,
    evidence: ['e1'],
    summary: 'idle',
    status: 'open',
    tags: [],
    response: { confirm: 'manual', revoke: false },
    details: { source_ips: [], user_agents: [], scopes: [], statuses: [], context: {} },
    ...over,
  };
}

/** What `choir alerts dismiss` stores: the same row, status changed. */
function dismiss(rows: Map<string, Alert>, id: string): void {
  rows.set(id, { ...(rows.get(id) as Alert), status: 'dismissed' });
}

describe('AlertSaver', () => {
  it('keeps a dismissed scheduled alert dismissed when a later run raises it again', async () => {
    const { store, rows } = fakeAlertStore();
    const saver = new AlertSaver({ alerts: store, logger });
    saver.addWhole([alert()]);
    await saver.flush();
    dismiss(rows, 'a1');
    saver.addWhole([alert({ last_seen: T + 86_400_000 })]);
    await saver.flush();
    expect(rows.get('a1')).toMatchObject({ status: 'dismissed', last_seen: T + 86_400_000, count: 1 });
  });

  it('keeps a confirmed stream alert confirmed when its window closes with more repeats', async () => {
    const { store, rows } = fakeAlertStore();
    const saver = new AlertSaver({ alerts: store, logger });
    saver.setStoredUntil(Number.NEGATIVE_INFINITY);
    saver.add(alert({ kind: 'out_of_scope' }), 'opened', T);
    await saver.flush();
    rows.set('a1', { ...(rows.get('a1') as Alert), status: 'confirmed' });
    saver.add(alert({ kind: 'out_of_scope', count: 4, last_seen: T + 60_000 }), 'updated', T);
    await saver.flush();
    expect(rows.get('a1')).toMatchObject({ status: 'confirmed', count: 4, last_seen: T + 60_000 });
  });

  it('writes a new alert without reading the store when nothing stored can hold its window', async () => {
    const { store } = fakeAlertStore();
    let reads = 0;
    const counted = {
      ...store,
      get(ids: readonly string[]) {
        reads++;
        return store.get(ids);
      },
    };
    const saver = new AlertSaver({ alerts: counted, logger });
    saver.setStoredUntil(T - 1);
    saver.add(alert({ id: 'new' }), 'opened', T);
    saver.add(alert({ id: 'old' }), 'opened', T - 60_000);
    await saver.flush();
    saver.add(alert({ id: 'new', count: 2 }), 'updated', T);
    await saver.flush();
    expect(reads).toBe(2); // 'old' before its first save; 'new' only once it was saved
  });

  it('lets the engine take over an early alert without counting it twice', async () => {
    const { store, rows } = fakeAlertStore();
    const saver = new AlertSaver({ alerts: store, logger });
    saver.setStoredUntil(Number.NEGATIVE_INFINITY);
    saver.addEarly(alert({ evidence: ['e2'] }), T);
    await saver.flush();
    expect(rows.get('a1')).toMatchObject({ count: 1, evidence: ['e2'] });
    saver.add(alert({ evidence: ['e1'] }), 'opened', T);
    await saver.flush();
    saver.add(alert({ evidence: ['e1', 'e2'], count: 2 }), 'updated', T);
    await saver.flush();
    expect(rows.get('a1')).toMatchObject({ count: 2, evidence: ['e1', 'e2'], status: 'open' });
  });

  it('withdraws an early alert event-time order did not confirm, and reopens it if it later is', async () => {
    const { store, rows } = fakeAlertStore();
    const saver = new AlertSaver({ alerts: store, logger });
    saver.setStoredUntil(Number.NEGATIVE_INFINITY);
    saver.addEarly(alert(), T);
    await saver.flush();
    saver.withdraw(alert());
    await saver.flush();
    expect(rows.get('a1')?.status).toBe('dismissed');
    expect(rows.get('a1')?.summary).toMatch(/^Withdrawn/);
    saver.add(alert({ evidence: ['e3'] }), 'opened', T);
    await saver.flush();
    expect(rows.get('a1')).toMatchObject({ status: 'open', count: 1, evidence: ['e3'] });
  });

  it('withdraws an early alert whose save is still under way', async () => {
    const { store, rows } = fakeAlertStore();
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    let saving!: () => void;
    const started = new Promise<void>((r) => {
      saving = r;
    });
    const gated = {
      ...store,
      save: async (a: readonly Alert[]) => {
        saving();
        await gate;
        await store.save(a);
      },
    };
    const saver = new AlertSaver({ alerts: gated, logger });
    saver.setStoredUntil(Number.NEGATIVE_INFINITY);
    saver.addEarly(alert(), T);
    const first = saver.flush();
    await started; // storage slow (or retrying): the insert has not returned
    saver.withdraw(alert());
    const second = saver.flush();
    open();
    await Promise.all([first, second]);
    expect(rows.get('a1')?.status).toBe('dismissed');
  });

  it('saves an early alert once when it matches again while its save is under way', async () => {
    const { store, saves } = fakeAlertStore();
    const saver = new AlertSaver({ alerts: store, logger });
    saver.setStoredUntil(Number.NEGATIVE_INFINITY);
    saver.addEarly(alert(), T);
    const first = saver.flush();
    await Promise.resolve(); // the save has taken the alert
    saver.addEarly(alert({ evidence: ['e2'] }), T);
    await Promise.all([first, saver.flush()]);
    expect(saves).toEqual([1]);
  });

  it('does not save again an early alert the engine takes over unchanged', async () => {
    const { store, saves, rows } = fakeAlertStore();
    const saver = new AlertSaver({ alerts: store, logger });
    saver.setStoredUntil(Number.NEGATIVE_INFINITY);
    saver.addEarly(alert({ kind: 'out_of_scope' }), T);
    await saver.flush();
    saver.add(alert({ kind: 'out_of_scope' }), 'opened', T);
    await saver.flush();
    expect(saves).toEqual([1]);
    saver.add(alert({ kind: 'out_of_scope', count: 2, evidence: ['e1', 'e2'] }), 'updated', T);
    await saver.flush();
    expect(saves).toEqual([1, 1]);
    expect(rows.get('a1')).toMatchObject({ count: 2, status: 'open' });
  });

  it('saves what is flushed during a save in one save after it', async () => {
    const { store, saves } = fakeAlertStore();
    const saver = new AlertSaver({ alerts: store, logger });
    saver.setStoredUntil(Number.NEGATIVE_INFINITY);
    saver.add(alert({ id: 'a1' }), 'opened', T);
    const first = saver.flush();
    await Promise.resolve(); // the first save is under way
    saver.add(alert({ id: 'a2' }), 'opened', T);
    const second = saver.flush();
    saver.add(alert({ id: 'a3' }), 'opened', T);
    const third = saver.flush();
    await Promise.all([first, second, third]);
    expect(saves).toEqual([1, 2]);
  });
});

describe('AlertSaver after a restart (setCompleteFrom)', () => {
  const stored = alert({
    id: 'w1',
    kind: 'out_of_scope',
    count: 5,
    evidence: ['e1', 'e2', 'e3', 'e4', 'e5'],
  });

  it('saves the engine alert of a complete window as the whole alert, not added to the stored one', async () => {
    const { store, rows } = fakeAlertStore([{ ...stored, status: 'confirmed' }]);
    const saver = new AlertSaver({ alerts: store, logger });
    saver.setStoredUntil(T);
    saver.setCompleteFrom(T);
    saver.add(
      alert({ id: 'w1', count: 7, evidence: ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7'] }),
      'updated',
      T,
    );
    await saver.flush();
    expect(rows.get('w1')).toMatchObject({ count: 7, status: 'confirmed' });
  });

  it('does not save a complete alert that holds less than, or the same as, what is stored', async () => {
    const { store, saves } = fakeAlertStore([stored]);
    const saver = new AlertSaver({ alerts: store, logger });
    saver.setStoredUntil(T);
    saver.setCompleteFrom(T);
    // The re-run after a restart opens it again, then reaches the count the run before saved.
    saver.add(alert({ id: 'w1', kind: 'out_of_scope' }), 'opened', T);
    await saver.flush();
    saver.add(structuredClone(stored), 'updated', T);
    await saver.flush();
    saver.addEarly(alert({ id: 'w1', kind: 'out_of_scope' }), T);
    await saver.flush();
    expect(saves).toEqual([]);
  });

  it('still adds to a stored alert of a window that began before the restored span', async () => {
    const { store, rows } = fakeAlertStore([stored]);
    const saver = new AlertSaver({ alerts: store, logger });
    saver.setStoredUntil(T);
    saver.setCompleteFrom(T + 1);
    saver.add(alert({ id: 'w1', count: 2, evidence: ['e6', 'e7'] }), 'opened', T);
    await saver.flush();
    expect(rows.get('w1')?.count).toBe(7);
  });

  it('adds a window the engine reopened after forgetting it to what is stored', async () => {
    const { store, rows } = fakeAlertStore([stored]);
    const saver = new AlertSaver({ alerts: store, logger });
    saver.setStoredUntil(T);
    saver.setCompleteFrom(T);
    saver.add(alert({ id: 'w1', count: 1, evidence: ['e9'] }), 'reopened', T);
    await saver.flush();
    saver.add(alert({ id: 'w1', count: 2, evidence: ['e9', 'e10'] }), 'updated', T);
    await saver.flush();
    expect(rows.get('w1')?.count).toBe(7);
  });

  it('saves the detection checkpoint with the alerts raised up to it', async () => {
    const { store, checkpoints } = fakeAlertStore();
    let now = 0;
    const saver = new AlertSaver({ alerts: store, logger, now: () => now });
    saver.add(alert({ id: 'c1' }), 'opened', T);
    saver.checkpoint({ time: T, id: 'e1', storedSeq: 4 });
    await saver.flush();
    saver.checkpoint({ time: T + 1, id: 'e2', storedSeq: 5 });
    await saver.flush(); // within a second of the last: not yet
    now += 1_000;
    await saver.flush();
    expect(checkpoints).toEqual([
      { time: T, id: 'e1', storedSeq: 4 },
      { time: T + 1, id: 'e2', storedSeq: 5 },
    ]);
  });
});
