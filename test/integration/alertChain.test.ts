import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/detect/alert.js';
import { openStore } from '../../src/index.js';
import { type AlertStore, createAlertStore } from '../../src/store/alertStore.js';
import type { Store } from '../../src/store/store.js';
import { verifyLog } from '../../src/store/verify.js';
import { testConfig, testLogger } from '../support/store.js';

const logger = testLogger();

function alert(id: string, over: Partial<Alert> = {}): Alert {
  return {
    id,
    kind: 'out_of_scope',
    rule: 'Write with a read-only token',
    severity: 'high',
    token_id: `tok-${id}`,
    principal: 'svc-ci',
    tenant: 'acme',
    first_seen: Date.UTC(2026, 0, 1),
    last_seen: Date.UTC(2026, 0, 1, 0, 5),
    count: 1,
    evidence: ['evt-1', "evt-'2'\t"],
    summary: 'wrote projects/1 with projects:read',
    status: 'open',
    tags: ['mitre:T1078'],
    response: { confirm: 'manual', revoke: false },
    details: { source_ips: ['10.0.0.1'], user_agents: [], scopes: [], statuses: [200], context: {} },
    ...over,
  };
}

/** A fresh database with three saves: a1, then a1 again (count 2) with a2, then a3 confirmed. */
async function savedLog(): Promise<{ store: Store; alerts: AlertStore }> {
  const store = await openStore(testConfig({ storage: { writer_id: 'writer-a' } }), logger);
  let t = Date.UTC(2026, 0, 2);
  const alerts = createAlertStore(store, { now: () => (t += 1000), chain: { chainId: 'writer-a', key: '' } });
  await alerts.save([alert('a1')]);
  await alerts.save([alert('a1', { count: 2 }), alert('a2')]);
  await alerts.save([alert('a3', { status: 'confirmed' })]);
  return { store, alerts };
}

const verify = (store: Store) => verifyLog({ store, key: '', retentionDays: 0 });
const alertProblems = async (store: Store) =>
  (await verify(store)).problems
    .filter((p) => p.table === 'alert_log')
    .map((p) => ({ kind: p.kind, batch: p.batch_seq, ids: p.ids }));

describe('choir verify over alerts', () => {
  let intact: { store: Store; alerts: AlertStore };
  beforeAll(async () => {
    intact = await savedLog();
  });
  afterAll(async () => {
    await intact?.store.close();
  });

  it('chains every save of alerts as a link of alert_log, and verifies it clean', async () => {
    const report = await verify(intact.store);
    expect(report.problems).toEqual([]);
    expect(report.chains.find((c) => c.table === 'alert_log')).toMatchObject({
      chain_id: 'writer-a',
      first_seq: 1,
      last_seq: 3,
      rows: 4,
    });
  });

  it('stays verifiable after alerts merges its versions away: every version is in the log', async () => {
    const { store, alerts } = intact;
    await store.command(`OPTIMIZE TABLE ${store.database}.alerts FINAL`);
    const [a1] = await alerts.get(['a1']);
    expect(a1?.count).toBe(2);
    const versions = await store.query<{ n: number }>(
      `SELECT count() AS n FROM ${store.database}.alert_log WHERE id = 'a1'`,
    );
    expect(Number(versions[0]!.n)).toBe(2);
    expect((await verify(store)).intact).toBe(true);
  });

  it('names an alert whose logged state was changed behind Choir’s back', async () => {
    const { store } = await savedLog();
    try {
      await store.command(
        `ALTER TABLE ${store.database}.alert_log UPDATE status = 'dismissed' WHERE id = 'a3' SETTINGS mutations_sync = 2`,
      );
      expect(await alertProblems(store)).toEqual([{ kind: 'changed', batch: 3, ids: ['a3'] }]);
    } finally {
      await store.close();
    }
  });

  it('reports a deleted alert version as missing from its link', async () => {
    const { store } = await savedLog();
    try {
      await store.command(
        `ALTER TABLE ${store.database}.alert_log DELETE WHERE id = 'a2' SETTINGS mutations_sync = 2`,
      );
      expect(await alertProblems(store)).toEqual([{ kind: 'missing', batch: 2, ids: [] }]);
    } finally {
      await store.close();
    }
  });

  it('names an alert inserted behind Choir’s back', async () => {
    const { store } = await savedLog();
    try {
      await store.command(
        `INSERT INTO ${store.database}.alert_log (id, kind, status, saved_at) SELECT 'forged', 'out_of_scope', 'dismissed', now64(3)`,
      );
      expect(await alertProblems(store)).toEqual([{ kind: 'unchained', batch: null, ids: ['forged'] }]);
    } finally {
      await store.close();
    }
  });
});

describe('choir verify over the alerts table (current state)', () => {
  it('names an alert row changed, deleted or inserted in alerts itself', async () => {
    const { store } = await savedLog();
    const alertsTable = `${store.database}.alerts`;
    try {
      await store.command(
        `ALTER TABLE ${alertsTable} UPDATE status = 'dismissed' WHERE id = 'a3' SETTINGS mutations_sync = 2`,
      );
      await store.command(`ALTER TABLE ${alertsTable} DELETE WHERE id = 'a2' SETTINGS mutations_sync = 2`);
      await store.command(
        `INSERT INTO ${alertsTable} (id, kind, status) SELECT 'forged', 'out_of_scope', 'open'`,
      );
      const report = await verify(store);
      expect(report.intact).toBe(false);
      const unlogged = report.problems.filter((p) => p.table === 'alerts');
      expect(unlogged.map((p) => ({ kind: p.kind, ids: [...p.ids].sort() }))).toEqual([
        { kind: 'unlogged', ids: ['a3', 'forged'] },
        { kind: 'unlogged', ids: ['a2'] },
      ]);
      expect(report.problems.filter((p) => p.table === 'alert_log')).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('alert_log chain across restarts', () => {
  it('continues the chain from the stored head and signs links with the chain key', async () => {
    const key = 'alert-chain-key-0123456789';
    const store = await openStore(testConfig({ storage: { writer_id: 'writer-b' } }), logger);
    try {
      const chain = { chainId: 'writer-b', key };
      await createAlertStore(store, { chain }).save([alert('b1')]);
      // A new process: the store learns the head from alert_log.
      await createAlertStore(store, { chain }).save([alert('b1', { count: 3, status: 'confirmed' })]);
      const report = await verifyLog({ store, key, retentionDays: 0 });
      expect(report.problems).toEqual([]);
      expect(report.chains.find((c) => c.table === 'alert_log')).toMatchObject({ first_seq: 1, last_seq: 2 });
      const unsigned = await verifyLog({ store, key: 'another-key-0123456789', retentionDays: 0 });
      expect(unsigned.problems.map((p) => p.kind)).toEqual(['bad_signature', 'bad_signature']);
    } finally {
      await store.close();
    }
  });
});
