/**
 * A host's capacity counts each resource at its largest size (spec, pending resize, resize in
 * flight) plus its hot-plugged disks; a bigger resize or a disk attach on a host-placed
 * resource needs room on its host (CAPACITY_EXHAUSTED before any hold or device is written).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, type Provisioner, type Slipway } from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';
import { boxProvisioner, type HostCall, type HostMachines } from './support/host-provisioner.js';
import { checkMoney } from './support/money.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const half = { vcpu: 2, memoryMb: 2048, diskGb: 10 }; // the host (box): 4 vCPU, 4096 MB, 100 GB

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  );

describe.each(engines)('host capacity and growth on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  const calls: HostCall[] = [];
  const machines: HostMachines = new Map();

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    const base = boxProvisioner({ name: 'h1', calls, machines });
    const box: Provisioner = {
      ...base,
      reconfigure: async () => ({ appliedAt: 'next-boot' }),
      attach: async () => {},
      detach: async () => ({ state: 'detached' }),
    };
    slipway = await createSlipway({ database: storage, provisioners: [box], rateLimits: {} });
    await slipway.hosts.register();
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 10_000 });
  });
  afterEach(async () => {
    await slipway.close();
    await storage.close();
  });

  const create = (name: string, spec = half) => slipway.resources.create(alice, { name, provisioner: 'box', spec });

  it('a pending bigger resize counts against the host: no overcommit after the next boot', async () => {
    const a = await create('a');
    expect((await slipway.resources.resize(alice, a.id, { vcpu: 4 })).pendingSpec).toMatchObject({ vcpu: 4 });
    // a will boot with 4 vCPU: the host has no room left for b's 2.
    expect(await codeOf(create('b'))).toBe('CAPACITY_EXHAUSTED');
    // Reverted, it is back to 2: b fits.
    await slipway.resources.revertResize(alice, a.id);
    expect(await codeOf(create('b'))).toBe('ok');
  });

  it('a resize in flight counts against the host', async () => {
    const a = await create('a');
    await slipway.resources.resize(alice, a.id, { memoryMb: 4096 }, { wait: false }); // its job has not run
    expect(await codeOf(create('b'))).toBe('CAPACITY_EXHAUSTED');
    await slipway.runJobs();
    expect((await slipway.resources.get(alice, a.id)).pendingSpec).toMatchObject({ memoryMb: 4096 });
    expect(await codeOf(create('b'))).toBe('CAPACITY_EXHAUSTED');
  });

  it('a grow with no room is CAPACITY_EXHAUSTED and writes nothing; a shrink needs no room', async () => {
    const a = await create('a');
    await create('b');
    const before = await slipway.events.list(storage.db, admin, { resourceId: a.id });
    expect(await codeOf(slipway.resources.resize(alice, a.id, { vcpu: 3 }))).toBe('CAPACITY_EXHAUSTED');
    expect(await codeOf(slipway.resources.resize(alice, a.id, { memoryMb: 3072 }))).toBe('CAPACITY_EXHAUSTED');
    expect(await slipway.resources.get(alice, a.id)).toMatchObject({ operation: null, pendingSpec: null });
    expect(await slipway.events.list(storage.db, admin, { resourceId: a.id })).toEqual(before);
    expect(await checkMoney(slipway, storage.db)).toMatchObject({ held: 0 });
    expect(await codeOf(slipway.resources.resize(alice, a.id, { vcpu: 1 }, { wait: false }))).toBe('ok');
  });

  it('two grows racing for the last room: one gets it', async () => {
    const a = await create('a', { ...half, vcpu: 1 });
    const b = await create('b', { ...half, vcpu: 1 });
    const codes = await Promise.all([
      codeOf(slipway.resources.resize(alice, a.id, { vcpu: 3 }, { wait: false })),
      codeOf(slipway.resources.resize(alice, b.id, { vcpu: 3 }, { wait: false })),
    ]);
    expect(codes.sort()).toEqual(['CAPACITY_EXHAUSTED', 'ok']);
    await checkMoney(slipway, storage.db);
  });

  it("a disk takes the host's disk: an attach with no room is refused, an attached disk counts", async () => {
    const a = await create('a');
    const attach = (sizeGb: number, id: string) =>
      codeOf(slipway.resources.attachDevice(alice, a.id, { type: 'disk', id, sizeGb }));
    expect(await attach(95, 'big')).toBe('CAPACITY_EXHAUSTED');
    expect((await slipway.resources.get(alice, a.id)).devices).toEqual([]);
    expect(await codeOf(slipway.resources.attachDevice(alice, a.id, { type: 'nic' }))).toBe('ok');
    expect(await attach(85, 'data')).toBe('ok');
    expect(await codeOf(create('b'))).toBe('CAPACITY_EXHAUSTED'); // 10 + 85 + 10 > 100 GB
    expect(await codeOf(create('b', { ...half, diskGb: 5 }))).toBe('ok');
  });
});
