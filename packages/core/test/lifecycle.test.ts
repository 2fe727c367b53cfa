import { afterEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  activeJobCount,
  createSlipway,
  type DemoProvisioner,
  demoProvisioner,
  type Provisioner,
  type Slipway,
  SlipwayError,
  type SlipwayEvent,
} from '../src/index.js';
import {
  createTestStorage,
  type ManualClock,
  manualClock,
  type TestStorage,
  testEngines,
} from '../src/testing/index.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const bob: Actor = { id: 'bob', role: 'user' };
const SPEC = { vcpu: 2, memoryMb: 1024, diskGb: 20 }; // 34 credits
const input = (over: Record<string, unknown> = {}) => ({ name: 'vm', provisioner: 'demo', spec: SPEC, ...over });
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  );

/** Wraps the demo provisioner with scripted failures for its next calls. */
function flaky(demo: DemoProvisioner, script: { allocate?: Error[]; release?: Error[] }): Provisioner {
  return {
    name: demo.name,
    isDemo: true,
    allocate: async (req, ctx) => {
      const next = script.allocate?.shift();
      if (next) throw next;
      return demo.allocate(req, ctx);
    },
    release: async (a, ctx) => {
      const next = script.release?.shift();
      if (next) throw next;
      return demo.release(a, ctx);
    },
    status: (a, ctx) => demo.status(a, ctx),
  };
}
const timeout = () => new SlipwayError('PROVISIONER_TIMEOUT', 'slow cloud');
const retryable = () => new SlipwayError('PROVISIONER_FAILED', 'HTTP 503', { details: { retryable: true } });

describe.each(engines)('resource lifecycle on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  let clock: ManualClock;
  let demo: DemoProvisioner;

  afterEach(async () => {
    await slipway.close();
    await storage.close();
  });

  async function setup(opts: { provisioner?: (d: DemoProvisioner) => Provisioner; limits?: boolean } = {}) {
    storage = await createTestStorage(engine);
    clock = manualClock();
    demo = demoProvisioner();
    slipway = await createSlipway({
      database: storage,
      provisioners: [opts.provisioner ? opts.provisioner(demo) : demo],
      clock,
      policy: { holdTtlMs: 60_000 },
      jobs: { backoff: { baseMs: 1_000, maxMs: 10_000 }, leaseMs: 30_000 },
      ...(opts.limits ? {} : { rateLimits: {} }),
    });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 1000 });
  }

  const audit = async () => {
    const a = await slipway.ledger.audit(storage.db, 'alice');
    expect(a.balance).toBe(a.ledgerSum);
    expect(a.held).toBe(a.pendingSum);
    return a;
  };
  /** Let time pass and run everything that became due. */
  const settle = async (rounds = 6) => {
    for (let i = 0; i < rounds; i += 1) {
      clock.advance(15_000);
      await slipway.sweep();
      await slipway.runJobs();
    }
  };

  it('create without waiting answers PROVISIONING; the job finishes it', async () => {
    await setup();
    const r = await slipway.resources.create(alice, input(), { wait: false });
    expect(r.status).toBe('PROVISIONING');
    expect(await audit()).toMatchObject({ balance: 1000, held: 34 });
    expect(await slipway.runJobs()).toBe(1);
    expect((await slipway.resources.get(alice, r.id)).status).toBe('RUNNING');
    expect(await audit()).toMatchObject({ balance: 966, held: 0 });
  });

  it('transient allocate failures retry with backoff and keep the last error', async () => {
    await setup({ provisioner: (d) => flaky(d, { allocate: [timeout(), retryable()] }) });
    const r = await slipway.resources.create(alice, input(), { wait: false });
    await slipway.runJobs();
    let job = await storage.db
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', 'resource.allocate')
      .executeTakeFirstOrThrow();
    expect(job).toMatchObject({ state: 'queued', attempts: 1 });
    expect(job.last_error).toMatch(/timed out|slow cloud/);
    expect(job.run_at.getTime()).toBeGreaterThan(clock.now().getTime()); // backoff
    expect(await slipway.runJobs()).toBe(0); // not due yet
    await settle(2);
    job = await storage.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ state: 'done', attempts: 3, last_error: 'HTTP 503' });
    expect((await slipway.resources.get(alice, r.id)).status).toBe('RUNNING');
    expect(await audit()).toMatchObject({ balance: 966, held: 0 });
  });

  it('an allocation that keeps timing out gives up: FAILED, hold released, machine cleaned up', async () => {
    await setup({ provisioner: (d) => flaky(d, { allocate: [timeout(), timeout(), timeout()] }) });
    const r = await slipway.resources.create(alice, input(), { wait: false });
    await slipway.runJobs();
    await settle(4);
    expect(await slipway.resources.get(alice, r.id)).toMatchObject({ status: 'FAILED', cost: 0 });
    expect(await audit()).toMatchObject({ balance: 1000, held: 0 });
    expect(await activeJobCount(storage.db)).toBe(0);
    const failed = await storage.db.selectFrom('jobs').select(['kind', 'state']).orderBy('id').execute();
    expect(failed).toEqual([
      { kind: 'resource.allocate', state: 'done' },
      { kind: 'resource.cleanup', state: 'done' },
    ]);
  });

  it("a crashed worker's job is taken over when its lease runs out", async () => {
    await setup();
    const r = await slipway.resources.create(alice, input(), { wait: false });
    // Another replica took the job and died holding it.
    await storage.db
      .updateTable('jobs')
      .set({
        state: 'running',
        attempts: 1,
        locked_by: 'dead-replica',
        locked_until: new Date(clock.now().getTime() + 30_000),
      })
      .execute();
    expect(await slipway.runJobs()).toBe(0);
    clock.advance(31_000);
    expect(await slipway.runJobs()).toBe(1);
    expect((await slipway.resources.get(alice, r.id)).status).toBe('RUNNING');
    expect(await audit()).toMatchObject({ balance: 966, held: 0 });
  });

  it('a hold whose allocation died is reconciled: nothing built → released', async () => {
    await setup();
    const r = await slipway.resources.create(alice, input(), { wait: false });
    await storage.db.updateTable('jobs').set({ state: 'dead' }).execute(); // lost without compensation
    clock.advance(61_000);
    expect(await slipway.sweep()).toMatchObject({ holdsReconciled: 1 });
    expect(await slipway.resources.get(alice, r.id)).toMatchObject({ status: 'FAILED' });
    const a = await audit();
    expect(a).toMatchObject({ balance: 1000, held: 0 });
    const res = await storage.db.selectFrom('reservations').select('state').executeTakeFirstOrThrow();
    expect(res.state).toBe('expired');
  });

  it('a hold whose allocation died after building the machine is reconciled: committed once', async () => {
    await setup();
    const r = await slipway.resources.create(alice, input(), { wait: false });
    await storage.db.updateTable('jobs').set({ state: 'dead' }).execute();
    // The provider did build it before the crash.
    const ctx = { signal: new AbortController().signal } as Parameters<Provisioner['allocate']>[1];
    await demo.allocate(
      {
        resourceId: r.id,
        requestId: r.requestId,
        ownerId: 'alice',
        name: 'vm',
        kind: 'vm',
        spec: SPEC,
        options: {},
        labels: {},
        expiresAt: null,
      },
      { ...ctx, events: { emit: () => {} } },
    );
    clock.advance(61_000);
    await slipway.sweep();
    await slipway.runJobs();
    expect((await slipway.resources.get(alice, r.id)).status).toBe('RUNNING');
    expect(demo.liveCount()).toBe(1);
    expect(await audit()).toMatchObject({ balance: 966, held: 0 });
  });

  it('a running allocation renews its hold instead of being reconciled', async () => {
    await setup();
    const r = await slipway.resources.create(alice, input(), { wait: false });
    await storage.db
      .updateTable('jobs')
      .set({ state: 'running', locked_by: 'busy-replica', locked_until: new Date(clock.now().getTime() + 120_000) })
      .execute();
    clock.advance(61_000);
    expect(await slipway.sweep()).toMatchObject({ holdsReconciled: 0 });
    expect((await slipway.resources.get(alice, r.id)).status).toBe('PROVISIONING');
    const hold = await storage.db.selectFrom('reservations').selectAll().executeTakeFirstOrThrow();
    expect(hold.state).toBe('pending');
    expect(hold.expires_at.getTime()).toBeGreaterThan(clock.now().getTime());
  });

  it('50 identical requests at once: one resource, one charge', async () => {
    await setup();
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => slipway.resources.create(alice, input({ requestId: 'same' }))),
    );
    const ids = new Set(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : [])));
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as SlipwayError).code] : []));
    expect(ids.size).toBe(1);
    expect(new Set(codes).size).toBeLessThanOrEqual(1);
    for (const c of codes) expect(c).toBe('REQUEST_IN_PROGRESS');
    expect(await storage.db.selectFrom('resources').select('id').execute()).toHaveLength(1);
    expect(await audit()).toMatchObject({ balance: 966, held: 0 });
    // Once settled, every retry gets the resource.
    const again = await slipway.resources.create(alice, input({ requestId: 'same' }));
    expect(ids.has(again.id)).toBe(true);
  });

  it('a request that failed stays failed for its key', async () => {
    await setup();
    const first = await codeOf(slipway.resources.create(alice, input({ requestId: 'f', options: { fail: true } })));
    expect(first).toBe('PROVISIONER_FAILED');
    expect(await codeOf(slipway.resources.create(alice, input({ requestId: 'f', options: { fail: true } })))).toBe(
      'PROVISIONER_FAILED',
    );
    expect(await storage.db.selectFrom('resources').select('id').execute()).toHaveLength(1);
  });

  it('rate limits creates per user and says when to retry; retries of a request are free', async () => {
    await setup({ limits: true });
    for (let i = 0; i < 5; i += 1) await slipway.resources.create(alice, input({ requestId: `r${i}` }));
    await slipway.resources.create(alice, input({ requestId: 'r0' })); // a retry: not counted
    const limited = await slipway.resources.create(alice, input({ requestId: 'r5' })).catch((e: unknown) => e);
    expect(limited).toMatchObject({ code: 'RATE_LIMITED' });
    const retryAfter = (limited as SlipwayError).details.retryAfterSeconds as number;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await audit()).toMatchObject({ held: 0, balance: 1000 - 5 * 34 });
    await slipway.accounts.grant(admin, { accountId: 'bob', amount: 100 });
    expect((await slipway.resources.create(bob, input({ requestId: 'b' }))).status).toBe('RUNNING');
    clock.advance(retryAfter * 1000);
    expect((await slipway.resources.create(alice, input({ requestId: 'r5' }))).status).toBe('RUNNING');
  });

  it('expires resources at expiresAt through their provisioner and records the lag', async () => {
    await setup();
    const r = await slipway.resources.create(alice, input({ ttlSeconds: 120 }));
    expect(r.expiresAt?.getTime()).toBe(clock.now().getTime() + 120_000);
    clock.advance(119_000);
    expect(await slipway.sweep()).toMatchObject({ expired: 0 });
    clock.advance(2_000);
    expect(await slipway.sweep()).toMatchObject({ expired: 1 });
    await slipway.runJobs();
    expect((await slipway.resources.get(alice, r.id)).status).toBe('EXPIRED');
    expect(demo.liveCount()).toBe(0);
    const events = await slipway.events.list(storage.db, alice, { resourceId: r.id });
    expect(events.map((e) => e.action)).toContain('resource.expiring');
    expect(events.at(-1)).toMatchObject({ action: 'resource.expired', data: { expiryLagMs: 1_000 } });
  });

  it('a machine that failed after it ran keeps its charge, and still expires at the provider', async () => {
    let broken = false;
    await setup({
      provisioner: (d) => ({
        ...flaky(d, {}),
        status: async (a, ctx) => (broken ? { state: 'failed' } : d.status(a, ctx)),
      }),
    });
    const r = await slipway.resources.create(alice, input({ ttlSeconds: 120 }));
    broken = true;
    expect((await slipway.resources.refresh(alice, r.id)).status).toBe('FAILED');
    expect(await audit()).toMatchObject({ balance: 966, held: 0 }); // it ran: the charge stands
    expect(demo.liveCount()).toBe(1);
    clock.advance(121_000);
    expect(await slipway.sweep()).toMatchObject({ expired: 1 });
    await slipway.runJobs();
    expect((await slipway.resources.get(alice, r.id)).status).toBe('EXPIRED');
    expect(demo.liveCount()).toBe(0);
  });

  it('a release the provider loses is retried until it lands', async () => {
    await setup({ provisioner: (d) => flaky(d, { release: [new Error('connection reset'), timeout()] }) });
    const r = await slipway.resources.create(alice, input());
    expect((await slipway.resources.release(alice, r.id, { waitMs: 50 })).status).toBe('RELEASING');
    expect(demo.liveCount()).toBe(1);
    await settle(3);
    expect((await slipway.resources.get(alice, r.id)).status).toBe('RELEASED');
    expect(demo.liveCount()).toBe(0);
    expect(await audit()).toMatchObject({ balance: 966, held: 0 });
  });

  it('the sweeper forgets finished jobs after a week', async () => {
    await setup();
    await slipway.resources.create(alice, input());
    const jobs = () => storage.db.selectFrom('jobs').select('state').execute();
    expect(await jobs()).toEqual([{ state: 'done' }]);
    clock.advance(6 * 24 * 3_600_000);
    await slipway.sweep();
    expect(await jobs()).toHaveLength(1);
    clock.advance(2 * 24 * 3_600_000);
    await slipway.sweep();
    expect(await jobs()).toEqual([]);
  });

  it('watch replays from a cursor and follows live, scoped to the user', async () => {
    await setup();
    const controller = new AbortController();
    const seen: SlipwayEvent[] = [];
    const bobSeen: SlipwayEvent[] = [];
    const follow = (async () => {
      for await (const e of slipway.watch(alice, { after: 0, signal: controller.signal, pollMs: 50 })) seen.push(e);
    })();
    const bobFollow = (async () => {
      for await (const e of slipway.watch(bob, { after: 0, signal: controller.signal, pollMs: 50 })) bobSeen.push(e);
    })();
    const r = await slipway.resources.create(alice, input());
    await slipway.resources.release(alice, r.id);
    const until = Date.now() + 5_000;
    while (!seen.some((e) => e.action === 'resource.released') && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 20));
    }
    controller.abort();
    await Promise.all([follow, bobFollow]);
    const actions = seen.map((e) => e.action);
    expect(actions).toEqual([
      'credits.granted',
      'resource.requested',
      'demo.allocated',
      'resource.created',
      'resource.releasing',
      'resource.released',
    ]);
    expect(bobSeen).toEqual([]);
    // Resume after the third event: exactly the rest, no gap, no duplicate.
    const cursor = seen[2]?.seq ?? 0;
    const resumed: number[] = [];
    const c2 = new AbortController();
    for await (const e of slipway.watch(alice, { after: cursor, signal: c2.signal, pollMs: 20 })) {
      resumed.push(e.seq);
      if (resumed.length === 3) c2.abort();
    }
    expect(resumed).toEqual(seen.slice(3).map((e) => e.seq));
  });
});
