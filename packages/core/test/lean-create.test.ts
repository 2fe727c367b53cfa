/**
 * The lean create path: the hold and the resource in one statement, the allocate job
 * enqueued already claimed by the waiting request, the answer taken from what the commit
 * returned, hot statements named (prepared once per connection), and what each of these
 * must not break: a request that dies holding a claimed job, a rolling migration that adds
 * a column under prepared statements, a create refused for credits.
 */

import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Actor,
  createSlipway,
  demoProvisioner,
  InsufficientCreditsError,
  type Slipway,
  setFaultHook,
} from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } }; // 34 credits

describe.each(engines)('lean create on %s', (engine) => {
  let storage: TestStorage;
  const instances: Slipway[] = [];
  afterEach(async () => {
    for (const s of instances.splice(0)) await s.close();
    await storage.close();
  });

  async function replica(leaseMs = 60_000): Promise<Slipway> {
    const s = await createSlipway({
      database: storage,
      provisioners: [demoProvisioner()],
      rateLimits: {},
      jobs: { leaseMs },
    });
    instances.push(s);
    return s;
  }

  it('a waiting create runs its own job, claimed in its insert: one attempt, no takeover, charged once', async () => {
    storage = await createTestStorage(engine);
    const a = await replica();
    await a.accounts.grant(admin, { accountId: 'alice', amount: 100 });
    const r = await a.resources.create(alice, input);
    expect(r).toMatchObject({ status: 'RUNNING', cost: 34 });
    const job = await storage.db
      .selectFrom('jobs')
      .select(['state', 'attempts', 'locked_by', 'history'])
      .executeTakeFirstOrThrow();
    expect(job).toMatchObject({ state: 'done', attempts: 1, locked_by: null });
    expect(job.history.map((h) => h.outcome)).toEqual(['done']);
    expect(await a.ledger.audit(storage.db, 'alice')).toEqual({ balance: 66, ledgerSum: 66, held: 0, pendingSum: 0 });
    // The answer is what the commit stored: the same as a fresh read.
    expect(await a.resources.get(alice, r.id)).toEqual(r);
  });

  it('a request that dies after its commit leaves a claimed job that another replica takes over', async () => {
    storage = await createTestStorage(engine);
    const a = await replica(300);
    const b = await replica(300);
    await a.accounts.grant(admin, { accountId: 'alice', amount: 100 });
    // The request dies between its commit and running the job it claimed.
    setFaultHook((point) => {
      if (point === 'create.after-reserve') throw new Error('request died');
    });
    await expect(a.resources.create(alice, input)).rejects.toThrow('request died');
    setFaultHook(undefined);
    const job = await storage.db.selectFrom('jobs').select(['state', 'locked_by']).executeTakeFirstOrThrow();
    expect(job).toEqual({ state: 'running', locked_by: a.jobs.workerId });
    // Until its lease runs out nobody else takes it; then `b` does, and the create completes.
    expect(await b.runJobs()).toBe(0);
    await vi.waitFor(
      async () => {
        await b.runJobs();
        const rows = await storage.db.selectFrom('resources').select('status').execute();
        expect(rows.map((row) => row.status)).toEqual(['RUNNING']);
      },
      { timeout: 20_000, interval: 100 },
    );
    const done = await storage.db.selectFrom('jobs').select(['state', 'attempts', 'history']).executeTakeFirstOrThrow();
    expect(done).toMatchObject({ state: 'done', attempts: 1 });
    expect(done.history.map((h) => h.outcome)).toEqual(['takeover', 'done']);
    expect(await b.ledger.audit(storage.db, 'alice')).toEqual({ balance: 66, ledgerSum: 66, held: 0, pendingSum: 0 });
  });

  it('a create the credits do not cover writes nothing and says what is available', async () => {
    storage = await createTestStorage(engine);
    const a = await replica();
    await a.accounts.grant(admin, { accountId: 'alice', amount: 30 });
    const refused = await a.resources.create(alice, input).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InsufficientCreditsError);
    expect(refused).toMatchObject({ details: { required: 34, available: 30 } });
    expect(await storage.db.selectFrom('resources').select('id').execute()).toEqual([]);
    expect(await storage.db.selectFrom('reservations').select('id').execute()).toEqual([]);
    expect(await storage.db.selectFrom('jobs').select('id').execute()).toEqual([]);
    expect(await a.ledger.audit(storage.db, 'alice')).toEqual({ balance: 30, ledgerSum: 30, held: 0, pendingSum: 0 });
  });
});

describe.runIf(engines.includes('postgres'))('named statements on postgres', () => {
  let storage: TestStorage;
  afterEach(async () => storage.close());

  it('are prepared once per connection and survive a column added by a newer replica', async () => {
    storage = await createTestStorage('postgres', { poolSize: 1 });
    const a = await createSlipway({ database: storage, provisioners: [demoProvisioner()], rateLimits: {} });
    try {
      await a.accounts.grant(admin, { accountId: 'alice', amount: 100 });
      const first = await a.resources.create(alice, { ...input, requestId: 'one' });
      const { url } = storage;
      if (!url) throw new Error('postgres storage without a url');
      // A newer release migrates while this replica runs with its statements prepared.
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      await other.query('alter table resources add column added_by_a_newer_release int');
      await other.end();
      const second = await a.resources.create(alice, { ...input, name: 'vm2', requestId: 'two' });
      expect(second.status).toBe('RUNNING');
      expect((await a.resources.get(alice, first.id)).status).toBe('RUNNING');
      // A pool of one: this is the connection the creates ran on.
      const prepared = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(storage.db);
      expect(prepared.rows.map((row) => row.name)).toEqual(
        expect.arrayContaining(['resources.admit', 'resources.by_request_id', 'ledger.commit', 'events.append']),
      );
    } finally {
      await a.close();
    }
  });
});
