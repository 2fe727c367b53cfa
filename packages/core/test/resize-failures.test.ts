/**
 * A resize or revert that fails after the provisioner may have reconfigured the machine, a
 * revert racing the boot that applies the resize, and a boot with a size nobody asked for:
 * Slipway never charges for one size while the machine runs another without saying so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  demoProvisioner,
  type Provisioner,
  type Slipway,
  setFaultHook,
  type WatchContext,
} from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';
import { checkMoney, checkResizeState } from './support/money.js';
import { operationsSlipway } from './support/operations-slipway.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
// standard pricing: 2 vCPU/1024 MB/20 GB = 34; 4 vCPU = 54.
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } };
type Size = { vcpu: number; memoryMb: number };

const crashBeforeCommit = () =>
  setFaultHook((point) => {
    if (point === 'operation.before-commit') throw new Error('crash before the commit');
  });

describe.each(engines)('resize failures on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  const booted: Size[] = [];
  const reconfigured: Size[] = [];
  /** While set, reconfigure signals `entered` and waits for `release`. */
  let gate: { entered: () => void; release: Promise<void> } | undefined;
  /** A boot that comes up with this size whatever was asked. */
  let bootSize: Size | undefined;
  let watch: WatchContext | undefined;

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    booted.length = 0;
    reconfigured.length = 0;
    gate = undefined;
    bootSize = undefined;
    const base = demoProvisioner({ persistent: true });
    const demo: Provisioner = {
      ...base,
      restart: async (a, ctx) => {
        const r = await base.restart?.(a, ctx);
        const running = bootSize ?? r?.running;
        if (running) booted.push(running);
        return running ? { running } : {};
      },
      reconfigure: async (a, change, ctx) => {
        reconfigured.push({ vcpu: change.vcpu ?? 0, memoryMb: change.memoryMb ?? 0 });
        const g = gate;
        if (g) {
          g.entered();
          await g.release;
        }
        return (await base.reconfigure?.(a, change, ctx)) ?? { appliedAt: 'next-boot' };
      },
      watch: async (ctx) => {
        watch = ctx;
        return { close: async () => {} };
      },
    };
    slipway = await operationsSlipway(storage, demo, { start: false });
  });
  afterEach(async () => {
    setFaultHook(undefined);
    await slipway.close();
    await storage.close();
  });

  const money = async () => {
    await checkResizeState(storage.db);
    return checkMoney(slipway, storage.db);
  };
  const eventsOf = async (id: string) =>
    (await slipway.events.list(storage.db, admin, { resourceId: id })).map((e) => e.action);

  async function settled(id: string) {
    for (let i = 0; i < 1000; i++) {
      const r = await slipway.resources.get(alice, id);
      if (!r.operation) return r;
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error('operation never settled');
  }

  it('a resize whose job dies after the reconfigure stays pending with its hold; the boot charges it', async () => {
    await slipway.start();
    const vm = await slipway.resources.create(alice, input);
    crashBeforeCommit(); // every attempt reconfigures the machine, then dies before the commit
    await slipway.resources.resize(alice, vm.id, { vcpu: 4 }, { wait: false });
    const failed = await settled(vm.id);
    expect(failed).toMatchObject({
      lastOperation: { action: 'RESIZE', state: 'FAILED' },
      pendingSpec: { vcpu: 4 },
      cost: 34,
    });
    expect(slipway.resources.allowedActions(failed)).toContain('REVERT_RESIZE');
    expect(await money()).toMatchObject({ balance: 66, held: 20 });
    setFaultHook(undefined);
    const restarted = await slipway.resources.act(alice, vm.id, 'RESTART');
    expect(booted.at(-1)).toEqual({ vcpu: 4, memoryMb: 1024 });
    expect(restarted).toMatchObject({ spec: { vcpu: 4 }, pendingSpec: null, cost: 54 });
    expect(await money()).toMatchObject({ balance: 46, held: 0 });
  });

  it('a resize failed by the sweeper after the provisioner was reached can be reverted', async () => {
    const vm = await slipway.resources.create(alice, input);
    crashBeforeCommit();
    await slipway.resources.resize(alice, vm.id, { vcpu: 4 }, { wait: false });
    await slipway.runJobs(); // reaches the provisioner, dies before the commit
    setFaultHook(undefined);
    // The job is gone without its outcome (its onDead hook could not write): the sweeper fails it.
    await storage.db.updateTable('jobs').set({ state: 'dead' }).where('kind', '=', 'resource.operate').execute();
    await slipway.sweep();
    expect(await slipway.resources.get(alice, vm.id)).toMatchObject({
      operation: null,
      lastOperation: { action: 'RESIZE', state: 'FAILED' },
      pendingSpec: { vcpu: 4 },
    });
    expect(await money()).toMatchObject({ balance: 66, held: 20 });
    await slipway.start();
    expect(await slipway.resources.revertResize(alice, vm.id)).toMatchObject({ pendingSpec: null, cost: 34 });
    expect(await money()).toMatchObject({ balance: 66, held: 0 });
    expect(await slipway.resources.act(alice, vm.id, 'RESTART')).toMatchObject({ spec: { vcpu: 2 }, cost: 34 });
    expect(booted.at(-1)).toEqual({ vcpu: 2, memoryMb: 1024 });
  });

  it('a revert that finds the resize applied by a boot puts the machine back to that size: CONFLICT', async () => {
    await slipway.start();
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.resize(alice, vm.id, { vcpu: 4 });
    let entered!: () => void;
    const inReconfigure = new Promise<void>((res) => {
      entered = res;
    });
    let release!: () => void;
    gate = { entered, release: new Promise<void>((res) => (release = res)) };
    const reverting = slipway.resources.revertResize(alice, vm.id).catch((e: unknown) => e);
    await inReconfigure;
    gate = undefined;
    // The watcher sees the machine boot with the new size while the revert is at the provisioner.
    await watch?.report(vm.id, { running: { vcpu: 4, memoryMb: 1024 } });
    expect(await slipway.resources.get(alice, vm.id)).toMatchObject({ spec: { vcpu: 4 }, cost: 54 });
    release();
    expect(await reverting).toMatchObject({ code: 'CONFLICT' });
    // The revert told the machine to boot 2 vCPU; it was told 4 again, the size now charged.
    expect(reconfigured.at(-1)).toEqual({ vcpu: 4, memoryMb: 1024 });
    expect(await slipway.resources.act(alice, vm.id, 'RESTART')).toMatchObject({ spec: { vcpu: 4 }, cost: 54 });
    expect(booted.at(-1)).toEqual({ vcpu: 4, memoryMb: 1024 });
    expect(await eventsOf(vm.id)).not.toContain('resource.size_mismatch');
    expect(await money()).toMatchObject({ balance: 46, held: 0 });
  });

  it('a boot with a size that is neither the spec nor the pending one is a critical mismatch, charged nothing', async () => {
    await slipway.start();
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.resize(alice, vm.id, { vcpu: 4 });
    bootSize = { vcpu: 8, memoryMb: 1024 };
    const restarted = await slipway.resources.act(alice, vm.id, 'RESTART');
    expect(restarted).toMatchObject({ spec: { vcpu: 2 }, pendingSpec: { vcpu: 4 }, cost: 34 });
    const events = await slipway.events.list(storage.db, admin, { resourceId: vm.id });
    expect(events.filter((e) => e.action === 'resource.size_mismatch')).toEqual([
      expect.objectContaining({
        severity: 'critical',
        data: expect.objectContaining({ running: bootSize, spec: { vcpu: 2, memoryMb: 1024 } }),
      }),
    ]);
    // The same from the watcher; a boot with the recorded size says nothing.
    await watch?.report(vm.id, { running: { vcpu: 2, memoryMb: 1024 } });
    await watch?.report(vm.id, { running: { vcpu: 6, memoryMb: 1024 } });
    expect((await eventsOf(vm.id)).filter((a) => a === 'resource.size_mismatch')).toHaveLength(2);
    expect(await money()).toMatchObject({ balance: 66, held: 20 });
  });
});
