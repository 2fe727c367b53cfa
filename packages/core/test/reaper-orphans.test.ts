/**
 * The orphan reaper, orphan side, on both engines: a machine nobody owns is released after the
 * grace period (not before), with a warning event and a counter; an in-flight allocation's
 * machine is never touched (nor an untagged one that may be its); a released resource's
 * leftover machine is reaped; a machine that failed after it ran stays its owner's to release.
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

describe.each(engines)('orphan reaper: orphans on %s', (engine) => {
  let storage: TestStorage;
  let clock: ManualClock;
  let cloud: Cloud;
  let slipway: Slipway;

  afterEach(async () => {
    await slipway.close();
    await storage.close();
  });

  async function setup() {
    storage = await createTestStorage(engine);
    clock = manualClock();
    cloud = newCloud();
    slipway = await reaperSlipway(storage, clock, cloud);
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 1000 });
  }

  it('releases machines nobody owns after the grace period, not before, with an event and a count', async () => {
    await setup();
    const tag = randomUUID();
    plant(cloud, 'stray-tagged', tag);
    plant(cloud, 'stray-untagged');
    plant(cloud, 'stray-odd-tag', 'not-a-uuid');

    expect(await slipway.sweep()).toMatchObject({ reaperSweepsScheduled: 1 });
    expect(await slipway.runJobs()).toBe(1);
    expect(await lastSweep(slipway)).toMatchObject({ listed: 3, orphansSeen: 3, released: 0, error: null });
    // The next sweep is due one interval on: scheduled once, not run before it is due.
    expect(await slipway.sweep()).toMatchObject({ reaperSweepsScheduled: 1 });
    expect(await slipway.sweep()).toMatchObject({ reaperSweepsScheduled: 0 });
    expect(await slipway.runJobs()).toBe(0);

    clock.advance(GRACE); // exactly the grace period: not yet
    expect(await sweepAndRun(slipway)).toBe(1);
    expect(cloud.machines.size).toBe(3);
    expect(cloud.releases).toEqual([]);

    clock.advance(INTERVAL);
    expect(await sweepAndRun(slipway)).toBe(1);
    expect(cloud.machines.size).toBe(0);
    expect(cloud.releases).toEqual(
      expect.arrayContaining([
        { resourceId: tag, externalId: 'stray-tagged' },
        { resourceId: '', externalId: 'stray-untagged' },
        { resourceId: 'not-a-uuid', externalId: 'stray-odd-tag' },
      ]),
    );
    expect(await lastSweep(slipway)).toMatchObject({ listed: 3, orphansSeen: 3, released: 3, markedGone: 0 });
    const events = await eventsNamed(slipway, 'provisioner.orphan_released');
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({ type: 'system', severity: 'warning', ownerId: null, resourceId: null });
    expect(events.map((e) => e.data.externalId).sort()).toEqual(['stray-odd-tag', 'stray-tagged', 'stray-untagged']);
    expect(events.find((e) => e.data.externalId === 'stray-tagged')?.data).toMatchObject({
      provisioner: 'cloud',
      resourceId: tag,
      resourceStatus: null,
    });

    // Gone from the listing: forgotten, nothing more counted.
    clock.advance(INTERVAL);
    await sweepAndRun(slipway);
    expect(await lastSweep(slipway)).toMatchObject({ listed: 0, orphansSeen: 0, released: 0 });
    expect(await storage.db.selectFrom('reaper_sightings').selectAll().execute()).toEqual([]);
  });

  it('counts a machine the provider keeps listing once, releasing it again quietly', async () => {
    await setup();
    plant(cloud, 'sticky');
    cloud.leaky = true;
    await sweepAndRun(slipway);
    clock.advance(GRACE + 1);
    await sweepAndRun(slipway);
    clock.advance(INTERVAL);
    await sweepAndRun(slipway);
    expect(cloud.releases.map((r) => r.externalId)).toEqual(['sticky', 'sticky']);
    expect(await eventsNamed(slipway, 'provisioner.orphan_released')).toHaveLength(1);
    expect(await lastSweep(slipway)).toMatchObject({ orphansSeen: 1, released: 0 });
  });

  it('restarts the grace period of a machine that stopped being an orphan', async () => {
    await setup();
    plant(cloud, 'flicker');
    await sweepAndRun(slipway);
    cloud.hidden.add('flicker'); // not listed in one sweep: its sighting is forgotten
    clock.advance(GRACE);
    await sweepAndRun(slipway);
    cloud.hidden.clear();
    clock.advance(INTERVAL);
    await sweepAndRun(slipway); // seen again: a new grace period starts
    clock.advance(INTERVAL);
    await sweepAndRun(slipway);
    expect(cloud.releases).toEqual([]);
    clock.advance(GRACE);
    await sweepAndRun(slipway);
    expect(cloud.releases.map((r) => r.externalId)).toEqual(['flicker']);
  });

  it('never reaps an in-flight allocation’s machine, nor an untagged one that may be its', async () => {
    await setup();
    const r = await slipway.resources.create(
      alice,
      { name: 'slow', provisioner: 'cloud', spec: SPEC },
      { wait: false },
    );
    expect(r.status).toBe('PROVISIONING');
    // The allocation is in flight: its job is not due yet, half its machine built at the provider.
    await storage.db
      .updateTable('jobs')
      .set({ run_at: new Date('2099-01-01') })
      .where('kind', '=', 'resource.allocate')
      .execute();
    plant(cloud, 'half-built', r.id);
    clock.advance(1_000);
    plant(cloud, 'untagged');
    await sweepAndRun(slipway);
    clock.advance(GRACE + INTERVAL);
    await sweepAndRun(slipway);
    expect(cloud.releases).toEqual([]);
    expect(await lastSweep(slipway)).toMatchObject({ listed: 2, orphansSeen: 1, released: 0 });

    // The allocation completes with its machine; the untagged one is no allocation's now.
    await storage.db.updateTable('jobs').set({ run_at: clock.now() }).where('kind', '=', 'resource.allocate').execute();
    expect(await slipway.runJobs()).toBe(1);
    expect((await slipway.resources.get(alice, r.id)).status).toBe('RUNNING');
    clock.advance(INTERVAL);
    await sweepAndRun(slipway);
    expect(cloud.releases).toEqual([{ resourceId: '', externalId: 'untagged' }]);
    expect([...cloud.machines.keys()]).toEqual(['half-built']);
  });

  it('reaps what a released resource left behind; a machine that failed after it ran stays its owner’s', async () => {
    await setup();
    const left = await slipway.resources.create(alice, { name: 'left', provisioner: 'cloud', spec: SPEC });
    const broken = await slipway.resources.create(alice, { name: 'broken', provisioner: 'cloud', spec: SPEC });
    cloud.leaky = true; // the provider says it deleted, and did not
    expect((await slipway.resources.release(alice, left.id)).status).toBe('RELEASED');
    cloud.leaky = false;
    const brokenMachine = cloud.machines.get(broken.externalId ?? '');
    if (brokenMachine) brokenMachine.state = 'failed';
    expect((await slipway.resources.refresh(alice, broken.id)).status).toBe('FAILED');

    clock.advance(1_000);
    await sweepAndRun(slipway);
    clock.advance(GRACE + INTERVAL);
    await sweepAndRun(slipway);
    expect(cloud.machines.has(left.externalId ?? '')).toBe(false);
    expect(cloud.machines.has(broken.externalId ?? '')).toBe(true);
    const [event] = await eventsNamed(slipway, 'provisioner.orphan_released');
    expect(event).toMatchObject({
      resourceId: left.id,
      data: { resourceStatus: 'RELEASED', externalId: left.externalId },
    });
    expect(await lastSweep(slipway)).toMatchObject({ orphansSeen: 1, released: 1, markedGone: 0 });
  });
});
