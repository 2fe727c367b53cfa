/**
 * Crashes and lease takeovers are no provisioner failures (issue 10): replicas that die
 * mid-allocation, one after another, use up no attempt of the job; the hold of an allocation
 * whose job waits for a takeover is kept (up to its deadline, never past it); a provisioner
 * error still uses up attempts as before. A "crashed" replica here is one frozen in allocate
 * whose lease the manual clock lets run out; tests/crash does the same with kill -9.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  createSlipway,
  type DemoProvisioner,
  demoProvisioner,
  type JobHistoryEntry,
  type Provisioner,
  type Slipway,
  SlipwayError,
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
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } }; // 34
const LEASE_MS = 30_000;
const HOLD_TTL_MS = 60_000;

/** A provisioner whose allocate never returns (until its runner aborts): a replica frozen or dead mid-call. */
const frozen = (demo: DemoProvisioner): Provisioner => ({
  ...demo,
  allocate: (_req, ctx) =>
    new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
});

/** Fails every allocate with a retryable provider error. */
const erroring = (demo: DemoProvisioner): Provisioner => ({
  ...demo,
  allocate: async () => {
    throw new SlipwayError('PROVISIONER_FAILED', 'HTTP 503', { retryable: true });
  },
});

describe.each(engines)('crashes and takeovers on %s', (engine) => {
  let storage: TestStorage;
  let clock: ManualClock;
  const replicas: Slipway[] = [];

  afterEach(async () => {
    for (const s of replicas.splice(0)) await s.close();
    await storage.close();
  });

  async function setup(policy: { allocationDeadlineMs?: number } = {}) {
    storage = await createTestStorage(engine);
    clock = manualClock();
    const first = await replica(demoProvisioner());
    await first.accounts.grant(admin, { accountId: 'alice', amount: 100 });
    return { first, policy };
  }

  async function replica(provisioner: Provisioner, policy: { allocationDeadlineMs?: number } = {}) {
    const s = await createSlipway({
      database: storage,
      provisioners: [provisioner],
      clock,
      rateLimits: {},
      policy: { wait: false, holdTtlMs: HOLD_TTL_MS, ...policy },
      jobs: { leaseMs: LEASE_MS, backoff: { baseMs: 1_000, maxMs: 1_000 } },
    });
    replicas.push(s);
    return s;
  }

  const job = () =>
    storage.db.selectFrom('jobs').selectAll().where('kind', '=', 'resource.allocate').executeTakeFirstOrThrow();
  const outcomes = async () => (await job()).history.map((h: JobHistoryEntry) => h.outcome);

  /** A replica takes the job and freezes in allocate; then the clock lets its lease run out. */
  async function crashMidAllocation(): Promise<string> {
    const doomed = await replica(frozen(demoProvisioner()));
    void doomed.runJobs();
    for (let i = 0; (await job()).locked_by !== doomed.jobs.workerId; i++) {
      if (i > 200) throw new Error('the job was not taken');
      await new Promise((r) => setTimeout(r, 10));
    }
    clock.advance(LEASE_MS + 1_000);
    return doomed.jobs.workerId;
  }

  it('five replicas dying mid-allocation use up no attempt; the next one finishes it, charged once', async () => {
    const { first } = await setup();
    const r = await first.resources.create(alice, input);
    const dead: string[] = [];
    for (let i = 0; i < 5; i++) {
      dead.push(await crashMidAllocation());
      // Meanwhile the hold ran out (5 × 31 s > 60 s): the sweeper keeps it, the job is claimable.
      await first.sweep();
      expect((await first.resources.get(alice, r.id)).status).toBe('PROVISIONING');
    }
    const j = await job();
    expect(j).toMatchObject({ state: 'running', attempts: 1, max_attempts: 3 });
    const survivor = await replica(demoProvisioner());
    expect(await survivor.runJobs()).toBe(1);
    expect(await survivor.resources.get(alice, r.id)).toMatchObject({ status: 'RUNNING', error: null });
    expect(await survivor.ledger.audit(storage.db, 'alice')).toMatchObject({ balance: 66, held: 0, ledgerSum: 66 });
    const done = await job();
    expect(done).toMatchObject({ state: 'done', attempts: 1, last_error: null });
    expect(done.history.map((h) => h.outcome)).toEqual([
      'takeover',
      'takeover',
      'takeover',
      'takeover',
      'takeover',
      'done',
    ]);
    // Each takeover names the runner whose lease ran out and the one that took the job on.
    const takeovers = done.history.filter((h) => h.outcome === 'takeover');
    expect(takeovers.map((h) => h.from)).toEqual(dead);
    expect(takeovers.map((h) => h.by)).toEqual([...dead.slice(1), survivor.jobs.workerId]);
    expect(takeovers.every((h) => h.attempt === 1 && typeof h.leaseUntil === 'string')).toBe(true);
  });

  it('a provisioner error still uses up attempts: a takeover, then three errors → FAILED with the error', async () => {
    const { first } = await setup();
    const r = await first.resources.create(alice, input);
    await crashMidAllocation();
    const flaky = await replica(erroring(demoProvisioner()));
    for (let i = 0; i < 3; i++) {
      await flaky.runJobs();
      clock.advance(2_000); // past the backoff
    }
    const failed = await flaky.resources.get(alice, r.id);
    expect(failed).toMatchObject({ status: 'FAILED', cost: 0 });
    expect(failed.error).toMatch(/HTTP 503/);
    expect(await flaky.ledger.audit(storage.db, 'alice')).toMatchObject({ balance: 100, held: 0 });
    expect(await job()).toMatchObject({ attempts: 3, last_error: 'HTTP 503' });
    // The allocate handler settles its last failure itself, so the job ends `done`.
    expect(await outcomes()).toEqual(['takeover', 'retry', 'retry', 'done']);
  });

  it('a hold whose job waits for a takeover is renewed up to the deadline, then given up and refunded', async () => {
    await setup();
    const deadlineMs = 5 * HOLD_TTL_MS;
    const sweeper = await replica(demoProvisioner(), { allocationDeadlineMs: deadlineMs });
    const r = await sweeper.resources.create(alice, input);
    const createdAt = clock.now().getTime();
    await storage.db
      .updateTable('jobs')
      .set({ state: 'running', attempts: 1, locked_by: 'dead-replica', locked_until: new Date(createdAt + 1_000) })
      .execute();
    for (let t = HOLD_TTL_MS + 1_000; t < deadlineMs; t += HOLD_TTL_MS + 1_000) {
      clock.set(new Date(createdAt + t));
      expect(await sweeper.sweep()).toMatchObject({ holdsReconciled: 0 });
      const hold = await storage.db.selectFrom('reservations').selectAll().executeTakeFirstOrThrow();
      expect(hold.state).toBe('pending');
      expect(hold.expires_at.getTime()).toBeGreaterThan(clock.now().getTime());
      expect(hold.expires_at.getTime()).toBeLessThanOrEqual(createdAt + deadlineMs); // never past the deadline
    }
    clock.set(new Date(createdAt + deadlineMs + 1));
    expect(await sweeper.sweep()).toMatchObject({ holdsReconciled: 1 });
    const gaveUp = await sweeper.resources.get(alice, r.id);
    expect(gaveUp.status).toBe('FAILED');
    expect(gaveUp.error).toMatch(/deadline/);
    const row = await storage.db.selectFrom('resources').select('error_code').executeTakeFirstOrThrow();
    expect(row.error_code).toBe('PROVISIONER_TIMEOUT');
    expect(await sweeper.ledger.audit(storage.db, 'alice')).toMatchObject({ balance: 100, held: 0 });
    const [event] = await sweeper.eventService
      .list(admin, { resourceId: r.id, first: 100 })
      .then((es) => es.filter((e) => e.action === 'resource.hold_expired'));
    expect(event?.data).toMatchObject({ reason: 'deadline' });
  });
});
