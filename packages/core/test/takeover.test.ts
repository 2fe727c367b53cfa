/**
 * Two runners, one job: what happens when a runner loses its lease mid-allocation, or shuts
 * down in the middle of one. (Regressions for bugs a review found: the late runner destroyed
 * the machine the other had committed; a shutdown failed allocations instead of handing
 * them on.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  type AllocationRequest,
  createSlipway,
  type DemoProvisioner,
  demoProvisioner,
  type Provisioner,
  type Slipway,
} from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } }; // 34

/** The demo provisioner whose first allocate waits for `open()` (or its abort). */
function gated(demo: DemoProvisioner) {
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  let entered: () => void = () => {};
  const reached = new Promise<void>((r) => {
    entered = r;
  });
  let first = true;
  const provisioner: Provisioner = {
    ...demo,
    allocate: async (req: AllocationRequest, ctx) => {
      if (first) {
        first = false;
        entered();
        await Promise.race([
          gate,
          new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
        ]);
      }
      return demo.allocate(req, ctx);
    },
  };
  return { provisioner, open: () => open(), reached };
}

describe.each(engines)('job takeover on %s', (engine) => {
  let storage: TestStorage;
  const instances: Slipway[] = [];
  afterEach(async () => {
    for (const s of instances.splice(0)) await s.close();
    await storage.close();
  });

  async function replica(provisioner: Provisioner): Promise<Slipway> {
    const s = await createSlipway({
      database: storage,
      provisioners: [provisioner],
      rateLimits: {},
      policy: { wait: false },
      jobs: { leaseMs: 60_000 },
    });
    instances.push(s);
    return s;
  }

  it('a runner that lost its lease does not destroy the machine the new owner committed', async () => {
    storage = await createTestStorage(engine);
    const demo = demoProvisioner();
    const g = gated(demo);
    const a = await replica(g.provisioner);
    const b = await replica(g.provisioner);
    await a.accounts.grant(admin, { accountId: 'alice', amount: 100 });
    const r = await a.resources.create(alice, input);
    const slow = a.runJobs(); // takes the job, then hangs in allocate
    await g.reached;
    // A's lease runs out (a GC pause, a lost heartbeat): B takes the job over and finishes it.
    await storage.db
      .updateTable('jobs')
      .set({ locked_until: new Date(Date.now() - 1000) })
      .execute();
    expect(await b.runJobs()).toBe(1);
    expect((await b.resources.get(alice, r.id)).status).toBe('RUNNING');
    g.open(); // A wakes up with the same machine
    await slow;
    await a.runJobs();
    await b.runJobs();
    expect((await a.resources.get(alice, r.id)).status).toBe('RUNNING');
    expect(demo.liveCount()).toBe(1); // still there for its paying user
    const audit = await a.ledger.audit(storage.db, 'alice');
    expect(audit).toMatchObject({ balance: 66, ledgerSum: 66, held: 0 });
  });

  it('a runner shutting down mid-allocation hands the job on instead of failing it', async () => {
    storage = await createTestStorage(engine);
    const demo = demoProvisioner();
    const g = gated(demo);
    const a = await replica(g.provisioner);
    await a.accounts.grant(admin, { accountId: 'alice', amount: 100 });
    const r = await a.resources.create(alice, input);
    const running = a.runJobs();
    await g.reached;
    await a.close(); // a rolling deploy stops this replica
    instances.splice(instances.indexOf(a), 1);
    await running;
    const job = await storage.db.selectFrom('jobs').select(['state', 'attempts']).executeTakeFirstOrThrow();
    expect(job).toEqual({ state: 'queued', attempts: 0 });
    const b = await replica(g.provisioner);
    expect((await b.resources.get(alice, r.id)).status).toBe('PROVISIONING');
    expect(await b.runJobs()).toBe(1);
    expect((await b.resources.get(alice, r.id)).status).toBe('RUNNING');
    expect(await b.ledger.audit(storage.db, 'alice')).toMatchObject({ balance: 66, held: 0 });
  });
});
