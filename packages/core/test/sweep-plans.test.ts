/**
 * Sweeps whose cost grows with what is due, not with the table: every statement a sweep pass
 * and a job claim run, EXPLAINed over tables seeded with thousands of rows that are not due,
 * uses the index made for its predicate and never scans `resources` whole. Plan shapes only,
 * no timings. (One replica sweeping at a time: sweep-lease.test.ts.)
 */
import { CompiledQuery, type KyselyPlugin, type RootOperationNode, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createSlipway, demoProvisioner, type Slipway, type SlipwayStorage } from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const N = 20_000;

/** Every query run through it, as Kysely nodes (compiled and EXPLAINed afterwards). */
function recorder() {
  const nodes: RootOperationNode[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: ({ node }) => {
      nodes.push(node);
      return node;
    },
    transformResult: async ({ result }) => result,
  };
  return { nodes, plugin };
}

async function seed(db: TestStorage['db']): Promise<void> {
  await sql`insert into accounts (id, role) values ('alice', 'user')`.execute(db);
  await sql`insert into resources (id, owner_id, name, kind, provisioner, spec, status, request_id, request_params,
      expires_at, updated_at)
    select gen_random_uuid(), 'alice', 'r' || i, 'vm', 'demo', '{}'::jsonb,
      case when i % 10 = 0 then 'RUNNING' else 'RELEASED' end, 'req' || i, '{}'::jsonb,
      now() + interval '1 day', now()
    from generate_series(1, ${N}) i`.execute(db);
  await sql`insert into events (type, action, severity, owner_id, data)
    select 'vm', 'resource.created', 'info', 'alice', '{}'::jsonb from generate_series(1, ${N})`.execute(db);
  await sql`insert into jobs (kind, payload, state, max_attempts, run_at, created_at, updated_at, finished_at)
    select 'resource.release', '{}'::jsonb, 'done', 1, now(), now(), now(), now() from generate_series(1, ${N})`.execute(
    db,
  );
  await sql`insert into provisioner_store (namespace, key, value, version)
    select 'demo', 'machine:' || i, '{}'::jsonb, 1 from generate_series(1, ${N}) i`.execute(db);
  await sql`insert into reservations (id, account_id, amount, state, resource_id, expires_at)
    select gen_random_uuid(), 'alice', 10, 'committed', null, now() from generate_series(1, ${N})`.execute(db);
  await sql`analyze`.execute(db);
}

describe.each(engines)('sweep plans on %s', (engine) => {
  let storage: TestStorage;
  const apps: Slipway[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
    await storage.close();
  });

  it('every sweep and claim statement uses its index; none scans resources whole', async () => {
    storage = await createTestStorage(engine);
    await seed(storage.db);
    const rec = recorder();
    const spied: SlipwayStorage = {
      db: storage.db.withPlugin(rec.plugin),
      engine: storage.engine,
      listen: (...args) => storage.listen(...args),
      ping: () => storage.ping(),
      close: async () => {},
    };
    const app = await createSlipway({ database: spied, provisioners: [demoProvisioner()] });
    apps.push(app);
    await app.sweep();
    await app.runJobs();

    const plans: string[] = [];
    for (const node of rec.nodes) {
      if (node.kind === 'InsertQueryNode' || node.kind === 'RawNode') continue;
      const compiled = storage.db.getExecutor().compileQuery(node, { queryId: 'explain' });
      const res = await storage.db.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]),
      );
      plans.push(res.rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    const all = plans.join('\n---\n');
    for (const index of [
      'resources_expiry', // the expiry sweep
      'resources_operation', // operations left claimed
      'resources_finished', // retention: finished resources
      'reservations_pending_expiry', // holds whose lease ran out
      'jobs_done', // pruning finished jobs
      'jobs_queued', // the claim
      'jobs_leases', // the claim's takeovers
      'events_created', // retention: events
      'provisioner_store_retired', // retention: released machines
    ]) {
      expect(all, `a plan using ${index}`).toContain(index);
    }
    expect(all).not.toMatch(/Seq Scan on resources/);
  });
});
