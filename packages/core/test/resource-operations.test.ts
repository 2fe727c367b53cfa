/** Power operations and hotplug through the resource service on the demo provisioner. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  createSlipway,
  demoProvisioner,
  type Provisioner,
  type Resource,
  type Slipway,
} from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const bob: Actor = { id: 'bob', role: 'user' };
const input = { name: 'vm-1', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } };

/** A provisioner with the five required members only (no power, no hotplug). */
function bare(): Provisioner {
  const d = demoProvisioner({ name: 'bare' });
  return { name: 'bare', isDemo: true, allocate: d.allocate, release: d.release, status: d.status };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: string }).code ?? e,
  );

describe.each(engines)('resource operations on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  let vm: Resource;

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    slipway = await createSlipway({
      database: storage,
      provisioners: [
        demoProvisioner(),
        demoProvisioner({ name: 'slow-detach', detachPending: true, persistent: true }),
        bare(),
      ],
      rateLimits: {},
    });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 1000 });
    vm = await slipway.resources.create(alice, input);
  });
  afterEach(async () => {
    await slipway.close();
    await storage.close();
  });

  const actionsOf = async (r: Resource) => slipway.resources.allowedActions(await slipway.resources.get(alice, r.id));
  const eventsOf = async (id: string) =>
    (await slipway.events.list(storage.db, admin, { resourceId: id })).map((e) => e.action);

  it('stop, start, restart and both resets run as jobs and move the status', async () => {
    expect(await actionsOf(vm)).toEqual([
      'STOP',
      'RESTART',
      'RESET_HARD',
      'RESET_SOFT',
      'RESIZE',
      'ATTACH_DEVICE',
      'RELEASE',
    ]);
    const stopped = await slipway.resources.act(alice, vm.id, 'STOP');
    expect(stopped).toMatchObject({
      status: 'STOPPED',
      operation: null,
      lastOperation: { action: 'STOP', state: 'SUCCEEDED' },
    });
    expect((await slipway.resources.refresh(alice, vm.id)).status).toBe('STOPPED'); // the demo machine is off
    expect(await actionsOf(vm)).toEqual(['START', 'RESIZE', 'RELEASE']);
    expect((await slipway.resources.act(alice, vm.id, 'START')).status).toBe('RUNNING');
    for (const action of ['RESTART', 'RESET_HARD', 'RESET_SOFT'] as const) {
      expect(await slipway.resources.act(alice, vm.id, action)).toMatchObject({ status: 'RUNNING', operation: null });
    }
    const events = await eventsOf(vm.id);
    expect(events.filter((a) => a === 'resource.action_requested')).toHaveLength(5);
    expect(events.filter((a) => a === 'resource.action_succeeded')).toHaveLength(5);
    expect(await slipway.ledger.audit(storage.db, 'alice')).toMatchObject({ balance: 966, held: 0 });
  });

  it('a second operation while one is in flight is a CONFLICT; the slot frees when the job ends', async () => {
    const pending = await slipway.resources.act(alice, vm.id, 'STOP', { wait: false });
    expect(pending).toMatchObject({ status: 'RUNNING', operation: { action: 'STOP', requestedBy: 'alice' } });
    expect(await actionsOf(vm)).toEqual(['RELEASE']);
    const conflict = await slipway.resources.act(alice, vm.id, 'RESTART').catch((e: unknown) => e);
    expect(conflict).toMatchObject({ code: 'CONFLICT', details: { operation: 'STOP' } });
    expect(await codeOf(slipway.resources.attachDevice(alice, vm.id, { type: 'nic' }))).toBe('CONFLICT');
    await slipway.runJobs();
    expect(await slipway.resources.get(alice, vm.id)).toMatchObject({ status: 'STOPPED', operation: null });
    expect((await slipway.resources.act(alice, vm.id, 'START')).status).toBe('RUNNING');
  });

  it('concurrent requests: exactly one claims the slot', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => codeOf(slipway.resources.act(alice, vm.id, 'RESTART', { wait: false }))),
    );
    expect(results.filter((r) => r === 'resolved')).toHaveLength(1);
    expect(results.filter((r) => r === 'CONFLICT')).toHaveLength(5);
    await slipway.runJobs();
    expect((await slipway.resources.get(alice, vm.id)).operation).toBeNull();
  });

  it('refuses before writing: NOT_SUPPORTED, INVALID_STATE, NOT_FOUND for others, VALIDATION_FAILED naming the field', async () => {
    const plain = await slipway.resources.create(alice, { ...input, provisioner: 'bare' });
    const refused = await slipway.resources.act(alice, plain.id, 'STOP').catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'NOT_SUPPORTED', details: { provisioner: 'bare', capability: 'stop' } });
    expect(await codeOf(slipway.resources.resize(alice, plain.id, { vcpu: 4 }))).toBe('NOT_SUPPORTED');
    expect(await codeOf(slipway.resources.attachDevice(alice, plain.id, { type: 'nic' }))).toBe('NOT_SUPPORTED');
    expect(slipway.resources.allowedActions(plain)).toEqual(['RELEASE']);
    expect(await codeOf(slipway.resources.act(alice, vm.id, 'START'))).toBe('INVALID_STATE');
    expect(await codeOf(slipway.resources.act(bob, vm.id, 'STOP'))).toBe('NOT_FOUND');
    expect(await codeOf(slipway.resources.detachDevice(bob, vm.id, 'disk-1'))).toBe('NOT_FOUND');
    expect(await codeOf(slipway.resources.act(alice, 'not-a-uuid', 'STOP'))).toBe('NOT_FOUND');
    const bad = await slipway.resources.act(alice, vm.id, 'FLY' as 'STOP').catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'action' } });
    for (const [device, field] of [
      [{ type: 'disk' }, 'sizeGb'],
      [{ type: 'nic', sizeGb: 3 }, 'sizeGb'],
      [{ type: 'tape' }, 'type'],
      [{ type: 'nic', id: 'Bad Id' }, 'id'],
    ] as const) {
      const e = await slipway.resources.attachDevice(alice, vm.id, device as never).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'VALIDATION_FAILED', details: { field } });
    }
    // No device at all: nothing to detach now; with one, an unknown id is bad input.
    expect(await codeOf(slipway.resources.detachDevice(alice, vm.id, 'nope'))).toBe('INVALID_STATE');
    await slipway.resources.attachDevice(alice, vm.id, { type: 'nic', id: 'n1' });
    const unknown = await slipway.resources.detachDevice(alice, vm.id, 'nope').catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'deviceId' } });
    // Admins may act on anyone's resource.
    expect((await slipway.resources.act(admin, vm.id, 'STOP')).status).toBe('STOPPED');
    const requested = (await eventsOf(vm.id)).filter((a) => a === 'resource.action_requested');
    expect(requested).toHaveLength(2); // only the attach and the admin's stop wrote anything
  });

  it('attach then detach a disk and a NIC; ids are generated when not given', async () => {
    const withDisk = await slipway.resources.attachDevice(alice, vm.id, { type: 'disk', id: 'data', sizeGb: 5 });
    expect(withDisk.devices).toEqual([{ id: 'data', type: 'disk', state: 'ATTACHED', sizeGb: 5 }]);
    const withNic = await slipway.resources.attachDevice(alice, vm.id, { type: 'nic' });
    expect(withNic.devices[1]).toMatchObject({ type: 'nic', state: 'ATTACHED', id: expect.stringMatching(/^nic-/) });
    expect(await codeOf(slipway.resources.attachDevice(alice, vm.id, { type: 'disk', id: 'data', sizeGb: 1 }))).toBe(
      'VALIDATION_FAILED',
    );
    const detached = await slipway.resources.detachDevice(alice, vm.id, 'data');
    expect(detached.devices.map((d) => d.id)).toEqual([withNic.devices[1]?.id]);
    const events = await eventsOf(vm.id);
    expect(events).toContain('resource.device_attached');
    expect(events).toContain('resource.device_detached');
  });

  it('a detach the guest does not acknowledge stays DETACHING until the machine reboots', async () => {
    const r = await slipway.resources.create(alice, { ...input, name: 'vm-2', provisioner: 'slow-detach' });
    await slipway.resources.attachDevice(alice, r.id, { type: 'nic', id: 'net1' });
    const pending = await slipway.resources.detachDevice(alice, r.id, 'net1');
    expect(pending.devices).toEqual([{ id: 'net1', type: 'nic', state: 'DETACHING' }]);
    expect(pending.operation).toBeNull();
    expect(slipway.resources.allowedActions(pending)).not.toContain('DETACH_DEVICE');
    const rebooted = await slipway.resources.act(alice, r.id, 'RESET_HARD');
    expect(rebooted.devices).toEqual([]);
    expect(await eventsOf(r.id)).toContain('resource.device_detach_pending');
  });

  it('a failed operation is recorded, its device removed, and the status kept', async () => {
    const vm2 = await slipway.resources.create(alice, { ...input, name: 'vm-2', provisioner: 'slow-detach' });
    const r = await slipway.resources.attachDevice(alice, vm2.id, { type: 'nic', id: 'n1' }, { wait: false });
    expect(r.devices).toEqual([{ id: 'n1', type: 'nic', state: 'ATTACHING' }]);
    // The machine disappears at the provider before the job runs: the attach fails.
    await storage.db.deleteFrom('provisioner_store').execute();
    await slipway.runJobs();
    const after = await slipway.resources.get(alice, vm2.id);
    expect(after).toMatchObject({ status: 'RUNNING', devices: [], operation: null });
    expect(after.lastOperation).toMatchObject({ action: 'ATTACH_DEVICE', state: 'FAILED', code: 'NOT_FOUND' });
    expect(await eventsOf(vm2.id)).toEqual(
      expect.arrayContaining(['resource.device_attach_failed', 'resource.action_failed']),
    );
    // Waiting for a failing operation answers its typed error.
    expect(await codeOf(slipway.resources.act(alice, vm2.id, 'STOP'))).toBe('NOT_FOUND');
  });
});
