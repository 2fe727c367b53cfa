/**
 * The lease of a job enqueued claimed starts at the create's `now`, taken before
 * its transaction; a transaction slower than the lease commits a job whose lease has already
 * run out, and another replica takes it over while the living request runs it too, unless `adopt` renews the lease first (it does).
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, demoProvisioner, type Slipway } from '../src/index.js';
import { createTestStorage, type TestStorage } from '../src/testing/index.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } };

describe('claimed job lease (postgres)', () => {
  let storage: TestStorage;
  const instances: Slipway[] = [];
  afterEach(async () => {
    for (const s of instances.splice(0)) await s.close();
    await storage.close();
  });

  it('a living request that was slow to commit does not share its job with another replica', async () => {
    storage = await createTestStorage('postgres');
    let calls = 0;
    const replica = async () => {
      const p = demoProvisioner({ allocateDelayMs: 800 });
      const allocate = p.allocate.bind(p);
      p.allocate = (req, ctx) => {
        calls += 1;
        return allocate(req, ctx);
      };
      const s = await createSlipway({ database: storage, provisioners: [p], rateLimits: {}, jobs: { leaseMs: 1000 } });
      instances.push(s);
      return s;
    };
    const a = await replica();
    const b = await replica();
    await a.accounts.grant(admin, { accountId: 'alice', amount: 100 });

    // Someone holds alice's wallet row for 1.5 s (a grant, a concurrent create): the create waits.
    const locker = new pg.Client({ connectionString: storage.url });
    await locker.connect();
    await locker.query('begin');
    await locker.query(`select 1 from wallets where account_id = 'alice' for update`);
    const unlock = new Promise<void>((resolve) =>
      setTimeout(() => void locker.query('commit').then(() => resolve()), 1500),
    );

    // Replica b polls for due jobs, as its loop does.
    let polling = true;
    const poll = (async () => {
      while (polling) {
        await b.runJobs();
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const r = await a.resources.create(alice, input);
    await unlock;
    polling = false;
    await poll;
    await locker.end();

    expect(r.status).toBe('RUNNING');
    const job = await storage.db.selectFrom('jobs').select(['state', 'history']).executeTakeFirstOrThrow();
    // The request never died: its job must run once (the provider asked once), whoever runs it.
    expect({ state: job.state, allocateCalls: calls }).toEqual({ state: 'done', allocateCalls: 1 });
  });
});
