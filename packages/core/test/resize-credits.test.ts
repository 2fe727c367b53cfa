/**
 * The money of a resize: held when bigger, charged once when applied, refunded (never more
 * than charged) when smaller, released on revert, failure and release; never swept as an
 * allocation hold; and consistent under racing operations and a crash before the commit.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  createSlipway,
  demoProvisioner,
  type Provisioner,
  type Slipway,
  SlipwayError,
  setFaultHook,
} from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';
import { checkMoney as checkMoneyOf, checkResizeState } from './support/money.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
// standard pricing: 2 vCPU/1024 MB/20 GB = 34; 4 vCPU = 54; 3 vCPU = 44; 1 vCPU/512 MB = 19.
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } };

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  );

describe.each(engines)('resize credits on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  let failReconfigure = false;
  let prices = new Map<number, number>();

  async function open(extra: Provisioner[] = []) {
    const demo = demoProvisioner({ persistent: true });
    const flaky: Provisioner = {
      ...demoProvisioner({ name: 'flaky', persistent: true }),
      reconfigure: async () => {
        if (failReconfigure) throw new SlipwayError('INVALID_STATE', 'reconfigure refused');
        return { appliedAt: 'next-boot' };
      },
    };
    // Its own prices, by vCPU, which a test changes between a create and a resize.
    const priced: Provisioner = {
      ...demoProvisioner({ name: 'priced', persistent: true }),
      quote: (spec) => prices.get(spec.vcpu) ?? 100,
    };
    slipway = await createSlipway({
      database: storage,
      provisioners: [demo, flaky, priced, ...extra],
      rateLimits: {},
      jobs: { pollMs: 10, backoff: { baseMs: 1, maxMs: 5 } },
    });
  }

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    failReconfigure = false;
    prices = new Map([
      [1, 20],
      [2, 30],
    ]);
    await open();
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 100 });
  });
  afterEach(async () => {
    setFaultHook(undefined);
    await slipway.close();
    await storage.close();
  });

  const checkMoney = async () => {
    await checkResizeState(storage.db);
    return checkMoneyOf(slipway, storage.db);
  };

  it('a bigger size holds the difference, and the boot that applies it charges it once', async () => {
    const vm = await slipway.resources.create(alice, input);
    const pending = await slipway.resources.resize(alice, vm.id, { vcpu: 4 });
    expect(pending).toMatchObject({ spec: { vcpu: 2 }, pendingSpec: { vcpu: 4, memoryMb: 1024 }, cost: 34 });
    expect(await checkMoney()).toMatchObject({ balance: 66, held: 20 });
    await slipway.resources.act(alice, vm.id, 'STOP');
    expect(await checkMoney()).toMatchObject({ balance: 66, held: 20 }); // a stop boots nothing
    const started = await slipway.resources.act(alice, vm.id, 'START');
    expect(started).toMatchObject({ spec: { vcpu: 4 }, pendingSpec: null, cost: 54 });
    expect(await checkMoney()).toMatchObject({ balance: 46, held: 0 });
    await slipway.resources.act(alice, vm.id, 'RESTART');
    expect(await checkMoney()).toMatchObject({ balance: 46, held: 0 });
  });

  it('a smaller size refunds the difference when applied, never more than was charged', async () => {
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.resize(alice, vm.id, { vcpu: 1, memoryMb: 512 }); // 19: −15
    expect(await checkMoney()).toMatchObject({ balance: 66, held: 0 });
    expect((await slipway.resources.act(alice, vm.id, 'RESTART')).cost).toBe(19);
    expect(await checkMoney()).toMatchObject({ balance: 81, held: 0 });

    // A machine charged less than its quote (a provisioner's own cost): it keeps having paid at
    // least the smaller size's price (19), so its 5 credits are not refunded.
    const cheap = await slipway.resources.create(alice, { ...input, name: 'cheap' });
    await storage.db.updateTable('resources').set({ cost: 5 }).where('id', '=', cheap.id).execute();
    await storage.db.updateTable('ledger_entries').set({ amount: -5 }).where('resource_id', '=', cheap.id).execute();
    await storage.db.updateTable('wallets').set({ balance: 76 }).where('account_id', '=', 'alice').execute();
    await slipway.resources.resize(alice, cheap.id, { vcpu: 1, memoryMb: 512 });
    expect((await slipway.resources.act(alice, cheap.id, 'RESET_HARD')).cost).toBe(5);
    expect(await checkMoney()).toMatchObject({ balance: 76, held: 0 });
  });

  it('after a price rise a smaller size refunds only what was paid above its new price', async () => {
    const vm = await slipway.resources.create(alice, { ...input, provisioner: 'priced' });
    expect(vm.cost).toBe(30);
    prices.set(2, 50); // the quotes now differ by 30, but only 10 was paid above the 1 vCPU price
    await slipway.resources.resize(alice, vm.id, { vcpu: 1 });
    expect(await slipway.resources.act(alice, vm.id, 'RESTART')).toMatchObject({ spec: { vcpu: 1 }, cost: 20 });
    expect(await checkMoney()).toMatchObject({ balance: 80, held: 0 });

    const other = await slipway.resources.create(alice, { ...input, name: 'other', provisioner: 'priced' });
    prices.set(2, 80);
    prices.set(1, 60); // the smaller size now costs more than was paid: nothing comes back
    await slipway.resources.resize(alice, other.id, { vcpu: 1 });
    expect(await slipway.resources.act(alice, other.id, 'RESTART')).toMatchObject({ spec: { vcpu: 1 }, cost: 50 });
    expect(await checkMoney()).toMatchObject({ balance: 30, held: 0 });
  });

  it('revert, a failed reconfigure and a release each give the hold back', async () => {
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.resize(alice, vm.id, { vcpu: 4 });
    expect(await checkMoney()).toMatchObject({ held: 20 });
    expect(await slipway.resources.revertResize(alice, vm.id)).toMatchObject({ pendingSpec: null, cost: 34 });
    expect(await checkMoney()).toMatchObject({ balance: 66, held: 0 });
    // The demo machine dropped its next size too: a restart keeps 2 vCPU.
    expect((await slipway.resources.act(alice, vm.id, 'RESTART')).spec.vcpu).toBe(2);

    const flaky = await slipway.resources.create(alice, { ...input, name: 'f', provisioner: 'flaky' });
    failReconfigure = true;
    expect(await codeOf(slipway.resources.resize(alice, flaky.id, { vcpu: 3 }))).toBe('INVALID_STATE');
    expect(await slipway.resources.get(alice, flaky.id)).toMatchObject({ pendingSpec: null, operation: null });
    expect(await checkMoney()).toMatchObject({ balance: 32, held: 0 });

    await slipway.resources.resize(alice, vm.id, { vcpu: 3 });
    expect(await checkMoney()).toMatchObject({ held: 10 });
    expect((await slipway.resources.release(alice, vm.id)).status).toBe('RELEASED');
    expect(await checkMoney()).toMatchObject({ balance: 32, held: 0 });
  });

  it('too big a resize is INSUFFICIENT_CREDITS and writes nothing', async () => {
    const vm = await slipway.resources.create(alice, input);
    const before = await slipway.events.list(storage.db, admin, { resourceId: vm.id });
    const error = await slipway.resources.resize(alice, vm.id, { vcpu: 16 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INSUFFICIENT_CREDITS', required: 140, available: 66 });
    expect(await slipway.resources.get(alice, vm.id)).toMatchObject({ operation: null, pendingSpec: null });
    expect(await slipway.events.list(storage.db, admin, { resourceId: vm.id })).toEqual(before);
    expect(await checkMoney()).toMatchObject({ balance: 66, held: 0 });
  });

  it('the hold sweeper leaves resize holds alone, however old', async () => {
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.resize(alice, vm.id, { vcpu: 4 });
    await storage.db
      .updateTable('reservations')
      .set({ expires_at: new Date(0) })
      .execute();
    expect(await slipway.sweep()).toMatchObject({ holdsReconciled: 0, operationsFailed: 0 });
    expect(await checkMoney()).toMatchObject({ held: 20 });
    expect((await slipway.resources.act(alice, vm.id, 'RESTART')).cost).toBe(54);
  });

  it('an operation whose job died unsettled is failed by the sweeper; an expiry releases a pending hold', async () => {
    const vm = await slipway.resources.create(alice, input);
    await slipway.resources.resize(alice, vm.id, { vcpu: 4 }, { wait: false });
    expect(await checkMoney()).toMatchObject({ held: 20 });
    // The job is gone (its onDead hook could not write): the slot must not stay claimed.
    await storage.db.updateTable('jobs').set({ state: 'dead' }).where('kind', '=', 'resource.operate').execute();
    expect(await slipway.sweep()).toMatchObject({ operationsFailed: 1 });
    expect(await slipway.resources.get(alice, vm.id)).toMatchObject({
      operation: null,
      lastOperation: { action: 'RESIZE', state: 'FAILED' },
    });
    expect(await checkMoney()).toMatchObject({ balance: 66, held: 0 });

    await slipway.resources.resize(alice, vm.id, { vcpu: 3 });
    expect(await checkMoney()).toMatchObject({ held: 10 });
    await storage.db
      .updateTable('resources')
      .set({ expires_at: new Date(0) })
      .where('id', '=', vm.id)
      .execute();
    expect(await slipway.sweep()).toMatchObject({ expired: 1 });
    await slipway.runJobs();
    expect((await slipway.resources.get(alice, vm.id)).status).toBe('EXPIRED');
    expect(await checkMoney()).toMatchObject({ balance: 66, held: 0 });
    const events = await slipway.events.list(storage.db, admin, { resourceId: vm.id });
    const expired = events.filter((e) => e.action === 'resource.expired');
    expect(expired.map((e) => e.data)).toEqual([expect.objectContaining({ resizeHoldReleased: 10 })]);
  });

  it('a crash after the reconfigure and after the boot, before each commit, neither loses nor doubles a credit', async () => {
    await slipway.start();
    const vm = await slipway.resources.create(alice, input);
    let crashes = 0;
    setFaultHook((point) => {
      if (point === 'operation.before-commit' && crashes < 2) {
        crashes += 1;
        throw new Error('crash before the commit');
      }
    });
    // The job dies after reconfigure returned; its retry reconfigures again (idempotent) and commits once.
    const resized = await slipway.resources.resize(alice, vm.id, { vcpu: 4 }, { waitMs: 20_000 });
    expect(resized).toMatchObject({ operation: null, pendingSpec: { vcpu: 4 } });
    expect(await checkMoney()).toMatchObject({ balance: 66, held: 20 });
    // The job dies after the machine booted with the new size; the retried restart applies it once.
    const restarted = await slipway.resources.act(alice, vm.id, 'RESTART', { waitMs: 20_000 });
    expect(crashes).toBe(2);
    expect(restarted).toMatchObject({ operation: null, spec: { vcpu: 4 }, cost: 54 });
    expect(await checkMoney()).toMatchObject({ balance: 46, held: 0 });
    const charges = await storage.db
      .selectFrom('ledger_entries')
      .select('amount')
      .where('resource_id', '=', vm.id)
      .execute();
    expect(charges.map((c) => c.amount)).toEqual([-34, -20]);
  });

  it('racing resizes, reverts and power operations keep every credit accounted for', async () => {
    await slipway.start();
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 200 });
    const vms = [
      await slipway.resources.create(alice, input),
      await slipway.resources.create(alice, { ...input, name: 'vm-b' }),
    ];
    const sizes = [1, 2, 3, 4, 6];
    const seen = new Set<string>();
    for (let round = 0; round < 12; round++) {
      const calls = vms.flatMap((vm, i) => {
        const vcpu = sizes[(round + i) % sizes.length] ?? 2;
        return [
          slipway.resources.resize(alice, vm.id, { vcpu }, { wait: round % 2 === 0 }),
          slipway.resources.revertResize(alice, vm.id),
          slipway.resources.act(alice, vm.id, round % 3 === 0 ? 'STOP' : 'RESTART', { wait: round % 2 === 1 }),
          slipway.resources.act(alice, vm.id, 'START'),
        ];
      });
      // VALIDATION_FAILED: a resize to the size it already has.
      for (const code of await Promise.all(calls.map(codeOf))) seen.add(code);
      await checkMoney();
    }
    // Let every operation finish, then settle what is pending: revert or apply.
    for (const vm of vms) {
      for (let i = 0; i < 200 && (await slipway.resources.get(alice, vm.id)).operation; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const r = await slipway.resources.get(alice, vm.id);
      if (r.status === 'STOPPED') await slipway.resources.act(alice, vm.id, 'START');
      else if (r.pendingSpec) await slipway.resources.act(alice, vm.id, 'RESTART');
    }
    expect(
      [...seen].filter(
        (c) => !['ok', 'CONFLICT', 'INVALID_STATE', 'INSUFFICIENT_CREDITS', 'VALIDATION_FAILED'].includes(c),
      ),
    ).toEqual([]);
    expect(seen.has('ok') && seen.has('CONFLICT')).toBe(true);
    const audit = await checkMoney();
    expect(audit.held).toBe(0);
    const final = await Promise.all(vms.map((vm) => slipway.resources.get(alice, vm.id)));
    for (const r of final) expect(r).toMatchObject({ operation: null, pendingSpec: null });
    // Each machine ends charged exactly its current size's price: the resizes netted out.
    const price = (vcpu: number) => Math.max(10, Math.ceil(10 + 4 + vcpu * 10));
    expect(final.map((r) => r.cost)).toEqual(final.map((r) => price(r.spec.vcpu)));
    expect(audit.balance).toBe(300 - final.reduce((sum, r) => sum + r.cost, 0));
  });
});
