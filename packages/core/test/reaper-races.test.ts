/**
 * The orphan reaper under races and at scale, on both engines: an allocation that commits
 * an untagged machine while a sweep judges it keeps its machine; a pending resize's hold is
 * released exactly once when its resource is marked GONE; a provider listing more orphans
 * than one statement can carry is still swept.
 */
import { randomUUID } from 'node:crypto';
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
import { QueryHook, selectMentioning } from './support/query-hook.js';
import {
  admin,
  alice,
  GRACE,
  INTERVAL,
  lastSweep,
  reaperSlipway,
  SPEC,
  sweepAndRun,
} from './support/reaper-slipway.js';

const engines = await testEngines();

describe.each(engines)('orphan reaper: races on %s', (engine) => {
  let storage: TestStorage;
  let clock: ManualClock;
  let cloud: Cloud;
  const replicas: Slipway[] = [];

  afterEach(async () => {
    for (const s of replicas.splice(0)) await s.close();
    await storage.close();
  });

  async function setup(hook?: QueryHook): Promise<Slipway> {
    storage = await createTestStorage(engine);
    clock = manualClock();
    cloud = newCloud();
    const db = hook ? storage.db.withPlugin(hook) : storage.db;
    const s = await reaperSlipway({ ...storage, db }, clock, cloud);
    replicas.push(s);
    await s.accounts.grant(admin, { accountId: 'alice', amount: 1000 });
    return s;
  }

  const audit = async (s: Slipway) => {
    const a = await s.ledger.audit(storage.db, 'alice');
    expect(a.balance).toBe(a.ledgerSum);
    expect(a.held).toBe(a.pendingSum);
    return a;
  };

  it('keeps an untagged machine whose allocation commits while the sweep judges it', async () => {
    const hook = new QueryHook();
    const a = await setup(hook);
    const b = await reaperSlipway(storage, clock, cloud);
    replicas.push(b);
    const r = await a.resources.create(alice, { name: 'slow', provisioner: 'cloud', spec: SPEC }, { wait: false });
    await storage.db
      .updateTable('jobs')
      .set({ run_at: new Date('2099-01-01') })
      .where('kind', '=', 'resource.allocate')
      .execute();
    clock.advance(1_000);
    plant(cloud, 'half'); // the allocation's machine, built at a provider without tags
    await sweepAndRun(a);
    clock.advance(GRACE + INTERVAL);

    // Right after the sweep read who stands behind each machine, the allocation commits `half`.
    cloud.untaggedAs = 'half';
    await a.sweep();
    hook.arm(selectMentioning('resources', 'owner_id', 'external_id', 'provisioner'), async () => {
      await storage.db
        .updateTable('jobs')
        .set({ run_at: clock.now() })
        .where('kind', '=', 'resource.allocate')
        .execute();
      expect(await b.runJobs()).toBe(1);
    });
    await a.runJobs();
    expect(hook.fired).toBe(1);
    expect(await a.resources.get(alice, r.id)).toMatchObject({ status: 'RUNNING', externalId: 'half' });
    expect(cloud.releases).toEqual([]);
    expect(cloud.machines.has('half')).toBe(true);
  });

  it('releases a pending resize’s hold once when the resource is marked GONE', async () => {
    const s = await setup();
    const r = await s.resources.create(alice, { name: 'grow', provisioner: 'cloud', spec: SPEC });
    // A resize staged for the next boot: its hold pending, no operation in flight.
    const hold = randomUUID();
    await s.ledger.reserve(storage.db, {
      reservationId: hold,
      accountId: 'alice',
      amount: 9,
      expiresAt: new Date('2099-01-01'),
      resourceId: r.id,
      purpose: 'resize',
    });
    await storage.db
      .updateTable('resources')
      .set({
        resize_reservation_id: hold,
        pending_spec: JSON.stringify({ ...SPEC, vcpu: 2 }),
        resize_delta: 9,
      })
      .where('id', '=', r.id)
      .execute();
    const before = await audit(s);
    expect(before.held).toBe(9);
    cloud.machines.delete(r.externalId ?? '');
    clock.advance(1_000);

    await sweepAndRun(s);
    const gone = await storage.db.selectFrom('resources').selectAll().where('id', '=', r.id).executeTakeFirstOrThrow();
    expect(gone).toMatchObject({ status: 'GONE', resize_reservation_id: null, pending_spec: null, cost: 17 });
    const after = await audit(s);
    expect(after).toMatchObject({ held: 0, balance: before.balance });
    const reservation = await storage.db
      .selectFrom('reservations')
      .select('state')
      .where('id', '=', hold)
      .executeTakeFirstOrThrow();
    expect(reservation.state).toBe('released');

    // Releasing it, and further sweeps, move nothing more.
    expect((await s.resources.release(alice, r.id)).status).toBe('GONE');
    clock.advance(INTERVAL);
    await sweepAndRun(s);
    expect(await audit(s)).toMatchObject({ held: 0, balance: before.balance });
  });

  it('sweeps a listing of more orphans than one statement can carry', async () => {
    const s = await setup();
    const r = await s.resources.create(alice, { name: 'lost', provisioner: 'cloud', spec: SPEC });
    cloud.machines.delete(r.externalId ?? '');
    for (let i = 0; i < 12_000; i++) plant(cloud, `stray-${i}`);
    clock.advance(1_000);
    await sweepAndRun(s);
    expect(await lastSweep(s)).toMatchObject({ listed: 12_000, orphansSeen: 12_000, markedGone: 1, error: null });
    expect((await s.resources.get(alice, r.id)).status).toBe('GONE');
    const sightings = await storage.db
      .selectFrom('reaper_sightings')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(sightings.n)).toBe(12_000);
    // The next sweep keeps every sighting it still sees (their grace runs on) and forgets the rest.
    for (let i = 0; i < 6_000; i++) cloud.machines.delete(`stray-${i}`);
    clock.advance(INTERVAL);
    await sweepAndRun(s);
    expect(await lastSweep(s)).toMatchObject({ listed: 6_000, orphansSeen: 6_000, released: 0, error: null });
    const kept = await storage.db.selectFrom('reaper_sightings').select(['external_id', 'first_seen_at']).execute();
    expect(kept).toHaveLength(6_000);
    expect(kept.every((k) => k.first_seen_at < clock.now() && Number(k.external_id.slice(6)) >= 6_000)).toBe(true);
  }, 120_000);

  it('records a sweep that fails after the listing, and waits an interval before the next', async () => {
    const s = await setup();
    plant(cloud, 'stray');
    // Every sweep now fails once it has the listing (the sightings cannot be written).
    await storage.db.schema.alterTable('reaper_sightings').renameTo('reaper_sightings_away').execute();
    clock.advance(1_000);
    expect(await sweepAndRun(s)).toBe(1);
    for (let i = 0; i < 2; i++) {
      clock.advance(10_000);
      expect(await s.runJobs()).toBe(1);
    }
    expect(cloud.inventoryCalls).toBe(3);
    expect((await lastSweep(s))?.error).toMatch(/reaper_sightings/);
    // Given up: the next sweep is due one interval after the last one started, not at once.
    expect(await s.sweep()).toMatchObject({ reaperSweepsScheduled: 1 });
    expect(await s.runJobs()).toBe(0);
    expect(cloud.inventoryCalls).toBe(3);
  });
});
