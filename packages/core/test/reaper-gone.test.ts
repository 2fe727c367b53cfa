/**
 * The orphan reaper, the other side, on both engines: a resource whose machine vanished at the
 * provider is marked GONE (confirmed by `status`, after the listing began) with a critical
 * event, and no credit moves; a failing inventory marks nothing and is recorded, retried, then
 * given up until the next interval; two replicas sweeping at once run one sweep.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Slipway } from '../src/index.js';
import {
  createTestStorage,
  type ManualClock,
  manualClock,
  type TestStorage,
  testEngines,
} from '../src/testing/index.js';
import { type Cloud, newCloud, plant } from './support/inventory-provisioner.js';
import {
  admin,
  alice,
  eventsNamed,
  GRACE,
  INTERVAL,
  lastSweep,
  reaperSlipway,
  SPEC,
  sweepAndRun,
} from './support/reaper-slipway.js';

const engines = await testEngines();
const vm = (name: string) => ({ name, provisioner: 'cloud', spec: SPEC });

describe.each(engines)('orphan reaper: vanished machines on %s', (engine) => {
  let storage: TestStorage;
  let clock: ManualClock;
  let cloud: Cloud;
  const replicas: Slipway[] = [];

  afterEach(async () => {
    for (const s of replicas.splice(0)) await s.close();
    await storage.close();
  });

  async function setup(): Promise<Slipway> {
    storage = await createTestStorage(engine);
    clock = manualClock();
    cloud = newCloud();
    const s = await replica();
    await s.accounts.grant(admin, { accountId: 'alice', amount: 1000 });
    return s;
  }

  async function replica(): Promise<Slipway> {
    const s = await reaperSlipway(storage, clock, cloud);
    replicas.push(s);
    return s;
  }

  const audit = async (s: Slipway) => {
    const a = await s.ledger.audit(storage.db, 'alice');
    expect(a.balance).toBe(a.ledgerSum);
    expect(a.held).toBe(a.pendingSum);
    return a;
  };

  it('marks GONE a resource whose machine vanished, with a critical event; the charge stays, nothing else moves', async () => {
    const s = await setup();
    const lost = await s.resources.create(alice, vm('lost'));
    const fine = await s.resources.create(alice, vm('fine'));
    const hidden = await s.resources.create(alice, vm('hidden'));
    const before = await audit(s);
    cloud.machines.delete(lost.externalId ?? '');
    cloud.hidden.add(hidden.externalId ?? ''); // missing from the listing, but `status` says it runs
    clock.advance(1_000);
    const fresh = await s.resources.create(alice, vm('fresh')); // committed as the sweep starts
    cloud.machines.delete(fresh.externalId ?? '');

    expect(await sweepAndRun(s)).toBe(1);
    expect((await s.resources.get(alice, lost.id)).status).toBe('GONE');
    expect((await s.resources.get(alice, fine.id)).status).toBe('RUNNING');
    expect((await s.resources.get(alice, hidden.id)).status).toBe('RUNNING');
    expect((await s.resources.get(alice, fresh.id)).status).toBe('RUNNING'); // changed too late to judge
    expect(await lastSweep(s)).toMatchObject({ listed: 1, orphansSeen: 0, released: 0, markedGone: 1, error: null });
    const [event] = await eventsNamed(s, 'resource.gone');
    expect(event).toMatchObject({
      type: 'vm',
      severity: 'critical',
      ownerId: 'alice',
      resourceId: lost.id,
      data: { provisioner: 'cloud', externalId: lost.externalId, from: 'RUNNING', charged: 17 },
    });
    // Alice sees it among her events.
    expect((await s.eventService.list(alice, { first: 500 })).some((e) => e.action === 'resource.gone')).toBe(true);

    const gone = await s.resources.get(alice, lost.id);
    expect(gone).toMatchObject({ cost: 17, releasedAt: clock.now() });
    expect(gone.error).toMatch(/no longer exists/);
    const after = await audit(s);
    expect(after.balance).toBe(before.balance - 17); // only `fresh` was charged meanwhile
    expect(after.held).toBe(0);
    const entries = await storage.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('resource_id', '=', lost.id)
      .execute();
    expect(entries.map((e) => [e.kind, e.amount])).toEqual([['charge', -17]]);

    // GONE is terminal: a release answers it as it is, and calls nobody.
    const releases = cloud.releases.length;
    expect((await s.resources.release(alice, lost.id)).status).toBe('GONE');
    expect(cloud.releases.length).toBe(releases);

    clock.advance(INTERVAL);
    await sweepAndRun(s);
    expect((await s.resources.get(alice, fresh.id)).status).toBe('GONE');
    expect(await eventsNamed(s, 'resource.gone')).toHaveLength(2);
    await audit(s);
  });

  it('never marks anything GONE or releases anything when the inventory fails; records it and retries', async () => {
    const s = await setup();
    const r = await s.resources.create(alice, vm('kept'));
    plant(cloud, 'stray');
    await sweepAndRun(s);
    cloud.machines.delete(r.externalId ?? '');
    cloud.failInventory = new Error('provider API down');
    clock.advance(GRACE + INTERVAL);
    expect(await sweepAndRun(s)).toBe(1);
    expect((await s.resources.get(alice, r.id)).status).toBe('RUNNING');
    expect(cloud.releases).toEqual([]);
    expect((await lastSweep(s))?.error).toMatch(/inventory: .*provider API down/);
    const job = await storage.db
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', 'reaper.sweep')
      .where('state', '=', 'queued')
      .executeTakeFirstOrThrow();
    expect(job).toMatchObject({ attempts: 1, last_error: expect.stringMatching(/provider API down/) });

    // Retried with backoff, then given up (a warning) until the next interval.
    for (let i = 0; i < 2; i++) {
      clock.advance(10_000);
      expect(await s.runJobs()).toBe(1);
    }
    expect(cloud.inventoryCalls).toBe(4);
    expect(await eventsNamed(s, 'provisioner.reaper_failed')).toHaveLength(1);
    expect(await s.sweep()).toMatchObject({ reaperSweepsScheduled: 1 });
    expect(await s.runJobs()).toBe(0); // not before the next interval
    expect((await s.resources.get(alice, r.id)).status).toBe('RUNNING');

    cloud.failInventory = null;
    clock.advance(INTERVAL);
    expect(await s.runJobs()).toBe(1);
    expect((await s.resources.get(alice, r.id)).status).toBe('GONE');
    expect(cloud.releases.map((x) => x.externalId)).toEqual(['stray']);
    await audit(s);
  });

  it('runs one sweep when two replicas schedule and run at once', async () => {
    const a = await setup();
    const b = await replica();
    plant(cloud, 'stray');
    const scheduled = await Promise.all([a.sweep(), b.sweep(), a.sweep(), b.sweep()]);
    expect(scheduled.reduce((n, x) => n + x.reaperSweepsScheduled, 0)).toBe(1);

    let open: () => void = () => {};
    cloud.gate = new Promise((resolve) => {
      open = resolve;
    });
    const first = a.runJobs();
    await expect.poll(() => cloud.inventoryCalls).toBe(1);
    // While it runs, nobody else takes it or schedules another.
    expect(await b.runJobs()).toBe(0);
    expect((await Promise.all([a.sweep(), b.sweep()])).map((x) => x.reaperSweepsScheduled)).toEqual([0, 0]);
    open();
    expect(await first).toBe(1);
    cloud.gate = null;
    expect(cloud.inventoryCalls).toBe(1);
    expect(await storage.db.selectFrom('reaper_sweeps').selectAll().execute()).toHaveLength(1);

    // The orphan's release is counted once, whichever replica's sweep does it.
    clock.advance(GRACE + INTERVAL);
    await Promise.all([a.sweep(), b.sweep()]);
    await Promise.all([a.runJobs(), b.runJobs()]);
    expect(cloud.inventoryCalls).toBe(2);
    expect(await eventsNamed(a, 'provisioner.orphan_released')).toHaveLength(1);
    expect(await a.reaper.lastSweeps(admin)).toEqual([expect.objectContaining({ provisioner: 'cloud', released: 1 })]);
    await expect(a.reaper.lastSweeps(alice)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
