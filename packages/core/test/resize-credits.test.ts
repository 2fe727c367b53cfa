/**
 * The money of a resize: held when bigger, charged once when applied, refunded (never more
 * than charged) when smaller, released on revert, failure and release; never swept as an
 * allocation hold; and consistent under racing operations and a crash before the commit.
 */
import { sql } from 'kysely';
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

  async function open(extra: Provisioner[] = []) {
    const demo = demoProvisioner({ persistent: true });
    const flaky: Provisioner = {
      ...demoProvisioner({ name: 'flaky', persistent: true }),
      reconfigure: async () => {
        if (failReconfigure) throw new Error('reconfigure refused');
        return { appliedAt: 'next-boot' };
      },
    };
    slipway = await createSlipway({
      database: storage,
      provisioners: [demo, flaky, ...extra],
      rateLimits: {},
      jobs: { pollMs: 10, backoff: { baseMs: 1, maxMs: 5 } },
    });
  }

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    failReconfigure = false;
    await open();
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 100 });
  });
  afterEach(async () => {
    setFaultHook(undefined);
    await slipway.close();
    await storage.close();
  });

  /** Credits conserved; each resource's cost is exactly what the ledger took for it; resize holds ⇔ resources. */
  async function checkMoney() {
    const audit = await slipway.ledger.audit(storage.db, 'alice');
    expect(audit.balance).toBe(audit.ledgerSum);
    expect(audit.held).toBe(audit.pendingSum);
    expect(audit.balance - audit.held).toBeGreaterThanOrEqual(0);
    const rows = await sql<{ id: string; cost: number; taken: number; hold: string | null; hold_state: string | null }>`
      select r.id, r.cost, r.resize_reservation_id as hold, v.state as hold_state,
        -coalesce((select sum(amount) from ledger_entries l where l.resource_id = r.id), 0)::int8 as taken
      from resources r left join reservations v on v.id = r.resize_reservation_id`.execute(storage.db);
    for (const r of rows.rows) {
      expect(Number(r.cost)).toBe(Number(r.taken));
      expect(Number(r.cost)).toBeGreaterThanOrEqual(0);
      if (r.hold) expect(r.hold_state).toBe('pending');
    }
    const stray = await sql<{ n: number }>`
      select count(*)::int8 as n from reservations v where v.purpose = 'resize' and v.state = 'pending'
        and not exists (select 1 from resources r where r.resize_reservation_id = v.id)`.execute(storage.db);
    expect(Number(stray.rows[0]?.n)).toBe(0);
    return audit;
  }

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

    // A machine charged less than its quote (a provisioner's own cost): the refund stops at what was charged.
    const cheap = await slipway.resources.create(alice, { ...input, name: 'cheap' });
    await storage.db.updateTable('resources').set({ cost: 5 }).where('id', '=', cheap.id).execute();
    await storage.db.updateTable('ledger_entries').set({ amount: -5 }).where('resource_id', '=', cheap.id).execute();
    await storage.db.updateTable('wallets').set({ balance: 76 }).where('account_id', '=', 'alice').execute();
    await slipway.resources.resize(alice, cheap.id, { vcpu: 1, memoryMb: 512 });
    expect((await slipway.resources.act(alice, cheap.id, 'RESET_HARD')).cost).toBe(0);
    expect(await checkMoney()).toMatchObject({ balance: 81, held: 0 });
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
    expect(await codeOf(slipway.resources.resize(alice, flaky.id, { vcpu: 3 }))).toBe('PROVISIONER_FAILED');
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
