import { afterEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  createSlipway,
  type DemoProvisioner,
  demoProvisioner,
  type Provisioner,
  type Slipway,
  SlipwayError,
} from '../src/index.js';
import { EXPIRE_JOB_BATCH } from '../src/resources/jobs/resource-jobs.js';
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
const input = (i: number) => ({
  name: `vm${i}`,
  provisioner: 'demo',
  spec: { vcpu: 1, memoryMb: 512, diskGb: 1 },
  ttlSeconds: 60,
});

/** Called on every release (a test counts them). */
let release: () => Promise<void> = async () => {};

/** The demo provisioner whose release fails for the resources in `failing` while it holds them. */
function failingFor(demo: DemoProvisioner, failing: Set<string>): Provisioner {
  return {
    name: demo.name,
    isDemo: true,
    allocate: (req, ctx) => demo.allocate(req, ctx),
    release: async (a, ctx) => {
      await release();
      if (failing.has(a.resourceId))
        throw new SlipwayError('PROVISIONER_FAILED', 'HTTP 503', { details: { retryable: true } });
      return demo.release(a, ctx);
    },
    status: (a, ctx) => demo.status(a, ctx),
  };
}

describe.each(engines)('expiry in batches on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  let clock: ManualClock;
  let demo: DemoProvisioner;
  const failing = new Set<string>();

  afterEach(async () => {
    failing.clear();
    release = async () => {};
    await slipway?.close();
    await storage?.close();
  });

  async function running(n: number): Promise<string[]> {
    storage = await createTestStorage(engine);
    clock = manualClock();
    demo = demoProvisioner();
    slipway = await createSlipway({
      database: storage,
      provisioners: [failingFor(demo, failing)],
      clock,
      jobs: { backoff: { baseMs: 1_000, maxMs: 10_000 } },
      rateLimits: {},
    });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 100_000 });
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await slipway.resources.create(alice, input(i))).id);
    return ids;
  }

  const jobsOf = (kind: string) =>
    storage.db.selectFrom('jobs').select(['state', 'payload']).where('kind', '=', kind).execute();
  const statuses = async () =>
    (await storage.db.selectFrom('resources').select('status').execute()).map((r) => r.status);

  it('releases a sweep of expired resources as a few batch jobs, one event each', async () => {
    const n = EXPIRE_JOB_BATCH * 2 + 7;
    const ids = await running(n);
    clock.advance(61_000);
    expect(await slipway.sweep()).toMatchObject({ expired: n });

    const batches = await jobsOf('resource.expire');
    expect(batches.map((j) => (j.payload.resourceIds as string[]).length).sort((a, b) => b - a)).toEqual([
      EXPIRE_JOB_BATCH,
      EXPIRE_JOB_BATCH,
      7,
    ]);
    expect(await jobsOf('resource.release')).toEqual([]);
    await slipway.runJobs();

    expect(new Set(await statuses())).toEqual(new Set(['EXPIRED']));
    expect(demo.liveCount()).toBe(0);
    const expired = await storage.db
      .selectFrom('events')
      .select('resource_id')
      .where('action', '=', 'resource.expired')
      .execute();
    expect(expired.map((e) => e.resource_id).sort()).toEqual([...ids].sort());
    expect((await jobsOf('resource.expire')).map((j) => j.state)).toEqual(['done', 'done', 'done']);
  });

  it('a release that fails in a batch is retried on its own until the provider takes it', async () => {
    const ids = await running(5);
    const stuck = ids[2] ?? '';
    failing.add(stuck);
    clock.advance(61_000);
    await slipway.sweep();
    await slipway.runJobs();

    const byId = new Map(
      (await storage.db.selectFrom('resources').select(['id', 'status']).execute()).map((r) => [r.id, r.status]),
    );
    expect([...byId].filter(([, s]) => s === 'EXPIRED')).toHaveLength(4);
    expect(byId.get(stuck)).toBe('RELEASING');
    expect((await jobsOf('resource.expire')).map((j) => j.state)).toEqual(['done']);
    const retry = await jobsOf('resource.release');
    expect(retry).toEqual([{ state: 'queued', payload: { resourceId: stuck, reason: 'expired' } }]);

    failing.clear();
    clock.advance(60_000); // past the retry's backoff
    await slipway.runJobs();
    expect(new Set(await statuses())).toEqual(new Set(['EXPIRED']));
    expect(demo.liveCount()).toBe(0);
    const ends = (await slipway.events.list(storage.db, admin, { resourceId: stuck })).filter(
      (e) => e.action === 'resource.expired',
    );
    expect(ends).toHaveLength(1);
  });

  it('a user release of a resource in an active expire batch adds no second release', async () => {
    const [id = ''] = await running(1);
    let calls = 0;
    release = async () => {
      calls += 1;
    };
    clock.advance(61_000);
    await slipway.sweep(); // RELEASING, named by a resource.expire job
    const answer = await slipway.resources.release(alice, id, { wait: false });
    expect(answer.status).toBe('RELEASING');
    const active = await storage.db
      .selectFrom('jobs')
      .select('kind')
      .where('state', 'in', ['queued', 'running'])
      .execute();
    expect(active.map((j) => j.kind)).toEqual(['resource.expire']);
    await slipway.runJobs();
    expect(calls).toBe(1);
    const ends = (await slipway.events.list(storage.db, admin, { resourceId: id })).filter(
      (e) => e.action === 'resource.expired' || e.action === 'resource.released',
    );
    expect(ends.map((e) => e.action)).toEqual(['resource.expired']);
  });

  it('a release naming the resource in capitals is the same release: no second job beside the batch', async () => {
    const [id = ''] = await running(1);
    clock.advance(61_000);
    await slipway.sweep(); // RELEASING, named by a resource.expire job
    await slipway.resources.release(alice, id.toUpperCase(), { wait: false });
    await slipway.resources.release(alice, id.slice(0, 8).toUpperCase() + id.slice(8), { wait: false });
    const active = await storage.db
      .selectFrom('jobs')
      .select('kind')
      .where('state', 'in', ['queued', 'running'])
      .execute();
    expect(active.map((j) => j.kind)).toEqual(['resource.expire']);
  });
});
