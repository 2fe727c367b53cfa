/**
 * A boot the watcher reports while a RESIZE is in flight, after the provisioner reconfigured
 * the machine and before the commit: the machine runs the new size though the pending spec is
 * not stored yet. The boot is remembered on the operation and its commit charges the size at
 * once: no false size mismatch, no bigger size run for free until a later boot.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Actor, demoProvisioner, type Provisioner, type Slipway, type WatchContext } from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';
import { operationsSlipway } from './support/operations-slipway.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } };

describe.each(engines)('boot during an in-flight resize on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  let watch: WatchContext | undefined;
  let gate: { entered: () => void; release: Promise<void> } | undefined;

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    const base = demoProvisioner({ persistent: true });
    const demo: Provisioner = {
      ...base,
      reconfigure: async (a, change, ctx) => {
        const r = (await base.reconfigure?.(a, change, ctx)) ?? { appliedAt: 'next-boot' };
        const g = gate;
        if (g) {
          g.entered();
          await g.release;
        }
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
    await slipway.close();
    await storage.close();
  });

  it('a boot with the requested size between reconfigure and commit is charged, not a mismatch', async () => {
    const vm = await slipway.resources.create(alice, input);
    let entered!: () => void;
    const inReconfigure = new Promise<void>((res) => {
      entered = res;
    });
    let release!: () => void;
    gate = { entered, release: new Promise<void>((res) => (release = res)) };
    const resizing = slipway.resources.resize(alice, vm.id, { vcpu: 4 });
    await inReconfigure;
    gate = undefined;
    await watch?.report(vm.id, { running: { vcpu: 4, memoryMb: 1024 } }); // the machine rebooted with 4 vCPU
    release();
    await resizing;
    const events = (await slipway.events.list(storage.db, admin, { resourceId: vm.id })).map((e) => e.action);
    expect(events).not.toContain('resource.size_mismatch');
    expect(await slipway.resources.get(alice, vm.id)).toMatchObject({ spec: { vcpu: 4 }, cost: 54 });
  });
});
