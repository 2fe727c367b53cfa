/** A watch-capable provisioner's reports reach the resources, each with its event, in one transaction. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  createSlipway,
  demoProvisioner,
  type Provisioner,
  type Slipway,
  type WatchContext,
} from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = { name: 'vm', provisioner: 'watched', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } }; // 34

/** The demo provisioner with a watcher that hands its context to the test. */
function watched() {
  const state = { ctx: undefined as WatchContext | undefined, started: 0, closed: 0, reportOnDetach: false };
  const demo = demoProvisioner({ name: 'watched', detachPending: true, persistent: true });
  const provisioner: Provisioner = {
    ...demo,
    // reportOnDetach: like QEMU, the watcher sees the unplug finish before detach returns.
    detach: async (allocation, deviceId, ctx) => {
      if (!state.reportOnDetach) return demo.detach?.(allocation, deviceId, ctx);
      await report(allocation.resourceId, { deviceDetached: deviceId });
      return { state: 'detached' };
    },
    watch: async (ctx) => {
      state.started += 1;
      state.ctx = ctx;
      return {
        close: async () => {
          state.closed += 1;
        },
      };
    },
  };
  const report: WatchContext['report'] = (id, r) => {
    if (!state.ctx) throw new Error('the watcher was not started');
    return state.ctx.report(id, r);
  };
  return { provisioner, state, report };
}

describe.each(engines)('watch reports on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  let w: ReturnType<typeof watched>;

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    w = watched();
    slipway = await createSlipway({
      database: storage,
      provisioners: [w.provisioner, demoProvisioner()],
      rateLimits: {},
      jobs: { pollMs: 20 },
    });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 100 });
    await slipway.start();
  });
  afterEach(async () => {
    await slipway.close();
    await storage.close();
  });

  const get = (id: string) => slipway.resources.get(alice, id);
  const events = async (id: string) => slipway.events.list(storage.db, admin, { resourceId: id });

  it('starts once per replica and closes on close', async () => {
    await slipway.start();
    expect(w.state).toMatchObject({ started: 1, closed: 0 });
    await slipway.close();
    expect(w.state.closed).toBe(1);
  });

  it('state moves the status; failed/gone keep it with an error and a critical event', async () => {
    const vm = await slipway.resources.create(alice, input);
    await w.report(vm.id, { state: 'stopped', message: 'ACPI shutdown' });
    expect((await get(vm.id)).status).toBe('STOPPED');
    await w.report(vm.id, { state: 'running' });
    expect((await get(vm.id)).status).toBe('RUNNING');
    await w.report(vm.id, { state: 'gone', message: 'qemu process died' });
    expect(await get(vm.id)).toMatchObject({ status: 'RUNNING', error: 'qemu process died' });
    const stored = await events(vm.id);
    expect(stored.filter((e) => e.action === 'resource.status_changed').map((e) => e.data)).toEqual([
      expect.objectContaining({ from: 'RUNNING', to: 'STOPPED', source: 'watch', message: 'ACPI shutdown' }),
      expect.objectContaining({ from: 'STOPPED', to: 'RUNNING', source: 'watch' }),
    ]);
    expect(stored.find((e) => e.action === 'resource.machine_lost')).toMatchObject({ severity: 'critical' });
  });

  it('an event is stored with the resource, visible to its owner', async () => {
    const vm = await slipway.resources.create(alice, input);
    await w.report(vm.id, { event: { action: 'qemu.guest_panicked', severity: 'warning', data: { vcpu: 0 } } });
    const mine = await slipway.events.list(storage.db, alice, { resourceId: vm.id });
    expect(mine.at(-1)).toMatchObject({
      type: 'vm',
      action: 'qemu.guest_panicked',
      severity: 'warning',
      ownerId: 'alice',
      data: { provisioner: 'watched', vcpu: 0 },
    });
  });

  it('never touches resources being released or finished, or another provisioner’s', async () => {
    const vm = await slipway.resources.create(alice, input);
    const other = await slipway.resources.create(alice, { ...input, name: 'other', provisioner: 'demo' });
    await w.report(other.id, { state: 'stopped' });
    expect((await get(other.id)).status).toBe('RUNNING');
    await slipway.resources.release(alice, vm.id);
    await w.report(vm.id, { state: 'running' });
    expect((await get(vm.id)).status).toBe('RELEASED');
    await w.report('not-a-uuid', { state: 'stopped' }); // ignored, no database error
  });

  it('deviceDetached removes the device; a boot finishes every DETACHING one', async () => {
    const vm = await slipway.resources.create(alice, input);
    for (const id of ['d1', 'd2', 'd3', 'd4']) await slipway.resources.attachDevice(alice, vm.id, { type: 'nic', id });
    for (const id of ['d1', 'd2']) await slipway.resources.detachDevice(alice, vm.id, id);
    expect((await get(vm.id)).devices.map((x) => `${x.id}:${x.state}`)).toEqual([
      'd1:DETACHING',
      'd2:DETACHING',
      'd3:ATTACHED',
      'd4:ATTACHED',
    ]);
    await w.report(vm.id, { deviceDetached: 'd1' });
    // Not being detached as far as Slipway knows (a failed detach may have got through): gone all the same.
    await w.report(vm.id, { deviceDetached: 'd3' });
    expect((await get(vm.id)).devices.map((x) => x.id)).toEqual(['d2', 'd4']);
    await w.report(vm.id, { running: { vcpu: 2, memoryMb: 1024 } });
    expect((await get(vm.id)).devices.map((x) => x.id)).toEqual(['d4']);
  });

  it('a detach the watcher finished while the operation ran is one device_detached event', async () => {
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.attachDevice(alice, vm.id, { type: 'nic', id: 'd1' });
    w.state.reportOnDetach = true;
    expect((await slipway.resources.detachDevice(alice, vm.id, 'd1')).devices).toEqual([]);
    const detached = (await events(vm.id)).filter((e) => e.action === 'resource.device_detached');
    expect(detached.map((e) => e.data)).toEqual([expect.objectContaining({ deviceId: 'd1', source: 'watch' })]);
    expect((await events(vm.id)).at(-1)).toMatchObject({ action: 'resource.action_succeeded' });
  });

  it('running with the pending size applies the resize and charges its hold', async () => {
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.resize(alice, vm.id, { vcpu: 4 }); // 54: holds 20
    expect(await slipway.ledger.wallet(storage.db, 'alice')).toMatchObject({ balance: 66, held: 20 });
    await w.report(vm.id, { running: { vcpu: 2, memoryMb: 1024 } }); // booted with the old size: nothing applies
    expect((await get(vm.id)).pendingSpec).toMatchObject({ vcpu: 4 });
    await w.report(vm.id, { running: { vcpu: 4, memoryMb: 1024 } });
    expect(await get(vm.id)).toMatchObject({ spec: { vcpu: 4 }, pendingSpec: null, cost: 54 });
    expect(await slipway.ledger.wallet(storage.db, 'alice')).toMatchObject({ balance: 46, held: 0 });
    await w.report(vm.id, { running: { vcpu: 4, memoryMb: 1024 } }); // reported twice: charged once
    const audit = await slipway.ledger.audit(storage.db, 'alice');
    expect(audit).toMatchObject({ balance: 46, ledgerSum: 46, held: 0, pendingSum: 0 });
    expect((await events(vm.id)).filter((e) => e.action === 'resource.resized')).toHaveLength(1);
  });
});
