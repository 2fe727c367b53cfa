/**
 * An attach or detach that fails after the provisioner may have acted keeps the device listed
 * as the machine may have it (attached with the error, or still detaching), so it is never
 * silently dropped nor left invisible; the machine's word that a device is gone removes it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  demoProvisioner,
  type Provisioner,
  type Slipway,
  SlipwayError,
  setFaultHook,
  type WatchContext,
} from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';
import { operationsSlipway } from './support/operations-slipway.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } };

const crashBeforeCommit = () =>
  setFaultHook((point) => {
    if (point === 'operation.before-commit') throw new Error('crash before the commit');
  });

describe.each(engines)('hotplug failures on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  const attached: string[] = [];
  const detached: string[] = [];
  /** Detach answers NOT_FOUND for these (a machine that never got the device). */
  const unknownToMachine = new Set<string>();
  let watch: WatchContext | undefined;

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    attached.length = 0;
    detached.length = 0;
    unknownToMachine.clear();
    const base = demoProvisioner({ persistent: true });
    const demo: Provisioner = {
      ...base,
      attach: async (a, device, ctx) => {
        await base.attach?.(a, device, ctx);
        attached.push(device.id);
      },
      detach: async (a, deviceId, ctx) => {
        if (unknownToMachine.has(deviceId)) throw new SlipwayError('NOT_FOUND', `no device ${deviceId}`);
        const r = await base.detach?.(a, deviceId, ctx);
        detached.push(deviceId);
        return r;
      },
      watch: async (ctx) => {
        watch = ctx;
        return { close: async () => {} };
      },
    };
    slipway = await operationsSlipway(storage, demo);
  });
  afterEach(async () => {
    setFaultHook(undefined);
    await slipway.close();
    await storage.close();
  });

  async function settled(id: string) {
    for (let i = 0; i < 1000; i++) {
      const r = await slipway.resources.get(alice, id);
      if (!r.operation) return r;
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error('operation never settled');
  }

  it('an attach whose job dies after the provisioner attached stays listed, with the error, and detaches', async () => {
    const vm = await slipway.resources.create(alice, input);
    crashBeforeCommit();
    await slipway.resources.attachDevice(alice, vm.id, { type: 'nic', id: 'nic-a' }, { wait: false });
    const failed = await settled(vm.id);
    setFaultHook(undefined);
    expect(failed.lastOperation).toMatchObject({ action: 'ATTACH_DEVICE', state: 'FAILED' });
    expect(attached).toContain('nic-a');
    expect(failed.devices).toEqual([
      { id: 'nic-a', type: 'nic', state: 'ATTACHED', error: expect.stringContaining('crash') },
    ]);
    expect(slipway.resources.allowedActions(failed)).toContain('DETACH_DEVICE');
    expect((await slipway.resources.detachDevice(alice, vm.id, 'nic-a')).devices).toEqual([]);
    expect(detached).toContain('nic-a');
  });

  it('a device the machine does not have (an attach that never got through) detaches', async () => {
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.attachDevice(alice, vm.id, { type: 'disk', id: 'gone', sizeGb: 5 });
    unknownToMachine.add('gone');
    expect((await slipway.resources.detachDevice(alice, vm.id, 'gone')).devices).toEqual([]);
  });

  it('a detach whose job dies after the unplug was sent stays DETACHING; the machine finishes it', async () => {
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.attachDevice(alice, vm.id, { type: 'disk', id: 'd1', sizeGb: 5 });
    crashBeforeCommit();
    await slipway.resources.detachDevice(alice, vm.id, 'd1', { wait: false });
    const failed = await settled(vm.id);
    setFaultHook(undefined);
    expect(failed.lastOperation).toMatchObject({ action: 'DETACH_DEVICE', state: 'FAILED' });
    expect(failed.devices).toEqual([
      { id: 'd1', type: 'disk', sizeGb: 5, state: 'DETACHING', error: expect.stringContaining('crash') },
    ]);
    await watch?.report(vm.id, { deviceDetached: 'd1' });
    expect((await slipway.resources.get(alice, vm.id)).devices).toEqual([]);
  });

  it('the machine saying a device is gone removes it whatever its state', async () => {
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.attachDevice(alice, vm.id, { type: 'nic', id: 'n1' });
    await slipway.resources.attachDevice(alice, vm.id, { type: 'nic', id: 'n2' });
    await watch?.report(vm.id, { deviceDetached: 'n1' });
    const after = await slipway.resources.get(alice, vm.id);
    expect(after.devices.map((d) => d.id)).toEqual(['n2']);
    const events = await slipway.events.list(storage.db, admin, { resourceId: vm.id });
    expect(events.filter((e) => e.action === 'resource.device_detached').map((e) => e.data)).toEqual([
      expect.objectContaining({ deviceId: 'n1', source: 'watch' }),
    ]);
  });
});
