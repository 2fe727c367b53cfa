/**
 * Review of the resource operations: failing tests that prove findings.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  createSlipway,
  demoProvisioner,
  type Provisioner,
  type Slipway,
  setFaultHook,
} from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';
import { boxProvisioner, type HostCall, type HostMachines } from './support/host-provisioner.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } };

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  );

async function settled(slipway: Slipway, id: string) {
  for (let i = 0; i < 500; i++) {
    const r = await slipway.resources.get(alice, id);
    if (!r.operation) return r;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error('operation never settled');
}

describe.each(engines)('review: operations on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  const booted: { vcpu: number; memoryMb: number }[] = [];
  const attached: string[] = [];
  const detached: string[] = [];

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    booted.length = 0;
    attached.length = 0;
    detached.length = 0;
    const base = demoProvisioner({ persistent: true });
    const demo: Provisioner = {
      ...base,
      restart: async (a, ctx) => {
        const r = await base.restart!(a, ctx);
        if (r?.running) booted.push(r.running);
        return r;
      },
      attach: async (a, device, ctx) => {
        await base.attach!(a, device, ctx);
        attached.push(device.id);
      },
      detach: async (a, deviceId, ctx) => {
        const r = await base.detach!(a, deviceId, ctx);
        detached.push(deviceId);
        return r;
      },
    };
    slipway = await createSlipway({
      database: storage,
      provisioners: [demo],
      rateLimits: {},
      jobs: { pollMs: 10, backoff: { baseMs: 1, maxMs: 5 } },
    });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 100 });
    await slipway.start();
  });
  afterEach(async () => {
    setFaultHook(undefined);
    await slipway.close();
    await storage.close();
  });

  it('a resize whose job dies after the reconfigure must not give a free, uncharged upgrade', async () => {
    const vm = await slipway.resources.create(alice, input);
    // Every attempt reconfigures the machine (next boot: 4 vCPU), then dies before the commit.
    setFaultHook((point) => {
      if (point === 'operation.before-commit') throw new Error('crash before the commit');
    });
    await slipway.resources.resize(alice, vm.id, { vcpu: 4 }, { wait: false });
    const failed = await settled(slipway, vm.id);
    expect(failed).toMatchObject({ lastOperation: { action: 'RESIZE', state: 'FAILED' }, pendingSpec: null });
    setFaultHook(undefined);
    // The hold was released, but the provisioner still boots the machine at 4 vCPU.
    const restarted = await slipway.resources.act(alice, vm.id, 'RESTART');
    const running = booted.at(-1);
    // Either the machine must still run the size Slipway records (and charges), or the new size must be charged.
    expect({ vcpu: restarted.spec.vcpu, cost: restarted.cost }).toEqual(
      running?.vcpu === 4 ? { vcpu: 4, cost: 54 } : { vcpu: 2, cost: 34 },
    );
  });

  it('an attach whose job dies after the provisioner attached must not leave an invisible device', async () => {
    const vm = await slipway.resources.create(alice, input);
    setFaultHook((point) => {
      if (point === 'operation.before-commit') throw new Error('crash before the commit');
    });
    await slipway.resources.attachDevice(alice, vm.id, { type: 'nic', id: 'nic-a' }, { wait: false });
    const failed = await settled(slipway, vm.id);
    expect(failed.lastOperation).toMatchObject({ action: 'ATTACH_DEVICE', state: 'FAILED' });
    expect(attached).toContain('nic-a'); // the machine has it
    // Listed (so it can be detached), or unplugged again by the compensation.
    const listed = failed.devices.some((d) => d.id === 'nic-a');
    expect(listed || detached.includes('nic-a')).toBe(true);
  });
});

describe.each(engines)('review: host capacity and resize on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  const calls: HostCall[] = [];
  const machines: HostMachines = new Map();

  afterEach(async () => {
    await slipway.close();
    await storage.close();
  });

  it('a pending bigger resize counts against the host: no overcommit after the next boot', async () => {
    storage = await createTestStorage(engine);
    const base = boxProvisioner({ name: 'h1', calls, machines }); // 4 vCPU, 4096 MB
    const box: Provisioner = {
      ...base,
      reconfigure: async () => ({ appliedAt: 'next-boot' }),
    };
    slipway = await createSlipway({ database: storage, provisioners: [box], rateLimits: {} });
    await slipway.hosts.register();
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 10_000 });
    const spec = { vcpu: 2, memoryMb: 2048, diskGb: 10 };
    const a = await slipway.resources.create(alice, { name: 'a', provisioner: 'box', spec });
    const grown = await slipway.resources.resize(alice, a.id, { vcpu: 4 });
    expect(grown.pendingSpec).toMatchObject({ vcpu: 4 });
    // a will boot with 4 vCPU: the host (4 vCPU) has no room left for b's 2.
    expect(await codeOf(slipway.resources.create(alice, { name: 'b', provisioner: 'box', spec }))).toBe(
      'CAPACITY_EXHAUSTED',
    );
  });
});
