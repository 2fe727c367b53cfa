/**
 * Only a plugin's typed refusal (VALIDATION_FAILED, INVALID_STATE, ...) on the only call undoes
 * a resize's or attach's claim. An invalid answer (PROVISIONER_INVALID_OUTPUT: the plugin acted,
 * then answered badly) or a plain Error after it acted (PROVISIONER_FAILED) keeps what the
 * machine may now be, so it never runs what the database says it does not (a free upgrade, an
 * invisible device).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  createSlipway,
  demoProvisioner,
  type Provisioner,
  type ReconfigureResult,
  type Slipway,
  SlipwayError,
} from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';
import { checkMoney } from './support/money.js';
import { operationsSlipway } from './support/operations-slipway.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
// standard pricing: 2 vCPU/1024 MB/20 GB = 34; 4 vCPU = 54.
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } };

describe.each(engines)('refusal exception on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    const base = demoProvisioner({ persistent: true });
    const demo: Provisioner = {
      ...base,
      // Acts, then answers something the contract rejects (PROVISIONER_INVALID_OUTPUT).
      reconfigure: async (a, change, ctx) => {
        await base.reconfigure?.(a, change, ctx);
        return { appliedAt: 'later' } as unknown as ReconfigureResult;
      },
      // Acts, then fails (a lost response, a store write): a plain Error → PROVISIONER_FAILED.
      attach: async (a, device, ctx) => {
        await base.attach?.(a, device, ctx);
        throw new Error('connection reset after device_add');
      },
    };
    slipway = await operationsSlipway(storage, demo);
  });
  afterEach(async () => {
    await slipway.close();
    await storage.close();
  });

  it('a resize the provisioner applied but answered invalidly is not a free upgrade', async () => {
    const vm = await slipway.resources.create(alice, input);
    await expect(slipway.resources.resize(alice, vm.id, { vcpu: 4 })).rejects.toMatchObject({
      code: 'PROVISIONER_INVALID_OUTPUT',
    });
    // The machine was reconfigured: the next boot comes up with 4 vCPU.
    const restarted = await slipway.resources.act(alice, vm.id, 'RESTART');
    const events = (await slipway.events.list(storage.db, admin, { resourceId: vm.id })).map((e) => e.action);
    expect(events).not.toContain('resource.size_mismatch');
    // Slipway must charge for the size the machine runs (4 vCPU = 54), not keep 34.
    expect(restarted).toMatchObject({ spec: { vcpu: 4 }, cost: 54 });
    expect(await checkMoney(slipway, storage.db)).toMatchObject({ balance: 46, held: 0 });
  });

  it('an attach that reached the machine and then failed keeps the device listed', async () => {
    const vm = await slipway.resources.create(alice, input);
    await expect(
      slipway.resources.attachDevice(alice, vm.id, { id: 'data', type: 'disk', sizeGb: 5 }),
    ).rejects.toMatchObject({ code: 'PROVISIONER_FAILED' });
    // The demo machine has the disk now; the resource must still list it so it can be detached.
    const r = await slipway.resources.get(alice, vm.id);
    expect(r.devices.map((d) => d.id)).toContain('data');
  });
});

describe.each(engines)('a typed refusal on %s', (engine) => {
  it('undoes the claim: no pending size, the hold released', async () => {
    const storage = await createTestStorage(engine);
    const base = demoProvisioner({ persistent: true });
    const demo: Provisioner = {
      ...base,
      reconfigure: async () => {
        throw new SlipwayError('VALIDATION_FAILED', 'vcpu: no catalog size has 4 vCPU', { details: { field: 'vcpu' } });
      },
    };
    const slipway = await createSlipway({ database: storage, provisioners: [demo], rateLimits: {} });
    try {
      await slipway.accounts.grant(admin, { accountId: 'alice', amount: 100 });
      const vm = await slipway.resources.create(alice, input);
      await expect(slipway.resources.resize(alice, vm.id, { vcpu: 4 })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      const r = await slipway.resources.get(alice, vm.id);
      expect(r).toMatchObject({ pendingSpec: null, operation: null, cost: 34 });
      expect(await checkMoney(slipway, storage.db)).toMatchObject({ balance: 66, held: 0 });
    } finally {
      await slipway.close();
      await storage.close();
    }
  });
});
