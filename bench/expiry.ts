/**
 * Scale section: 10,000 resources expiring together, from due to EXPIRED, with the demo
 * provisioner (persistent: its machines in the provisioner store, as `npm start` keeps them),
 * the app's own job loop and sweeps (`start()`), on PostgreSQL. Beside it the limit: pgbench
 * running the job claim and finish statements the runner issues, one job per transaction.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createSlipway, demoProvisioner, JOB_PRIORITY, type SlipwayOptions } from '@slipway/core';
import type { BenchDatabase, InvariantReport } from './database.js';
import { checkLedgerInvariants } from './database.js';
import { quantile } from './load.js';

const run = promisify(execFile);

export interface ExpiryResult {
  resources: number;
  /** From the moment they were all due to the last one EXPIRED. */
  seconds: number;
  /** expiresAt → EXPIRED per resource (the `resource.expired` event's `expiryLagMs`). */
  lagP50Ms: number;
  lagMaxMs: number;
  /** Expiries per second over the run. */
  perSecond: number;
  jobs: Pick<NonNullable<SlipwayOptions['jobs']>, 'concurrency' | 'urgentSlots'>;
  sweepIntervalMs: number;
  /** pgbench: claim + finish of one queued job per transaction (jobs/s), or null without pgbench. */
  pgbench: { clients: number; jobsPerSecond: number } | null;
  invariants: InvariantReport;
}

const OWNERS = 100;
const PRICE = 10;

/**
 * `n` RUNNING demo resources, each with its committed hold, its charge in the ledger and its
 * machine in the store, due at `dueAt`; every wallet's balance is the sum of its entries.
 */
async function seed(db: BenchDatabase, n: number, dueAt: Date): Promise<void> {
  const due = dueAt.toISOString();
  await db.query(`
    insert into accounts (id, role) select 'owner' || o, 'user' from generate_series(1, ${OWNERS}) o;
    insert into wallets (account_id, balance, held) select 'owner' || o, 1000000, 0 from generate_series(1, ${OWNERS}) o;
    insert into ledger_entries (account_id, amount, kind, note)
      select 'owner' || o, 1000000, 'grant', 'bench' from generate_series(1, ${OWNERS}) o;
    create temp table seeded as
      select gen_random_uuid() as id, gen_random_uuid() as reservation_id, 'owner' || (1 + i % ${OWNERS}) as owner_id, i
      from generate_series(1, ${n}) i;
    insert into reservations (id, account_id, amount, state, resource_id, charged, expires_at, settled_at)
      select reservation_id, owner_id, ${PRICE}, 'committed', id, ${PRICE}, now(), now() from seeded;
    insert into ledger_entries (account_id, amount, kind, reservation_id, resource_id)
      select owner_id, -${PRICE}, 'charge', reservation_id, id from seeded;
    update wallets w set balance = balance - c.total
      from (select owner_id, count(*) * ${PRICE} as total from seeded group by owner_id) c where c.owner_id = w.account_id;
    insert into resources (id, owner_id, name, kind, provisioner, spec, status, external_id, ip, ssh_port,
        request_id, request_params, reservation_id, cost, expires_at)
      select id, owner_id, 'vm' || i, 'vm', 'demo', '{"vcpu":1,"memoryMb":512,"diskGb":10}'::jsonb, 'RUNNING',
        'demo-' || left(id::text, 8), '10.0.0.1', 22, 'req' || i, '{}'::jsonb, reservation_id, ${PRICE}, '${due}'
      from seeded;
    insert into provisioner_store (namespace, key, value, version)
      select 'demo', 'machine/' || id, jsonb_build_object('released', false, 'power', 'running', 'devices', '[]'::jsonb,
        'allocation', jsonb_build_object('resourceId', id, 'externalId', 'demo-' || left(id::text, 8), 'ip', '10.0.0.1',
          'sshPort', 22, 'cockpitUrl', null, 'state', 'running', 'data', '{}'::jsonb)), 1
      from seeded;
    analyze;
  `);
}

export async function benchExpiry(opts: {
  db: BenchDatabase;
  resources: number;
  /** The runner's slots (one of them kept for user work). */
  concurrency: number;
  pgbench: string | null;
  progress: (line: string) => void;
}): Promise<ExpiryResult> {
  const { db, resources: n, progress } = opts;
  const dueAt = new Date(Date.now() + 5_000 + n); // after the seed, whatever it takes here
  await seed(db, n, dueAt);
  progress(`expiry: seeded ${n} RUNNING resources due at ${dueAt.toISOString()}`);
  const jobs = { concurrency: opts.concurrency, urgentSlots: 1 };
  const sweepIntervalMs = 5_000;
  // A connection per slot, and some for the sweeps and the event stream.
  const storage = await db.open(opts.concurrency + 4);
  const app = await createSlipway({
    database: storage,
    provisioners: [demoProvisioner({ persistent: true })],
    jobs,
    sweepIntervalMs,
  });
  let seconds: number;
  try {
    await app.start();
    const wait = dueAt.getTime() - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    for (;;) {
      const [row] = await db.query<{ n: string }>(`select count(*) as n from resources where status = 'EXPIRED'`);
      const done = Number(row?.n ?? 0);
      if (done >= n) break;
      if (performance.now() - t0 > 600_000) throw new Error(`expiry: only ${done} of ${n} EXPIRED after 10 minutes`);
      await new Promise((r) => setTimeout(r, 200));
    }
    seconds = (performance.now() - t0) / 1000;
  } finally {
    await app.close();
    await storage.close();
  }
  const lags = await db.query<{ lag: string }>(
    `select (data->>'expiryLagMs') as lag from events where action = 'resource.expired'`,
  );
  const sorted = Float64Array.from(lags.map((l) => Number(l.lag))).sort();
  const invariants = await checkLedgerInvariants(db);
  progress(`expiry: ${n} EXPIRED in ${seconds.toFixed(1)} s, lag p50 ${quantile(sorted, 0.5).toFixed(0)} ms`);
  const limit = opts.pgbench ? await pgbenchClaims(db, opts.pgbench, n, jobs.concurrency) : null;
  if (limit) progress(`expiry: pgbench claim+finish ${limit.jobsPerSecond.toFixed(0)} jobs/s`);
  return {
    resources: n,
    seconds,
    lagP50Ms: quantile(sorted, 0.5),
    lagMaxMs: sorted.at(-1) ?? Number.NaN,
    perSecond: n / seconds,
    jobs,
    sweepIntervalMs,
    pgbench: limit,
    invariants,
  };
}

/** The runner's claim (jobs_queued order, SKIP LOCKED) and finish, one job per pgbench transaction. */
export const CLAIM_SCRIPT = `update jobs set state = 'running', attempts = attempts + 1, locked_by = 'pgbench',
  locked_until = now() + interval '30 seconds', updated_at = now()
where id in (select id from jobs where state = 'queued' and run_at <= now() and host is null
  order by priority, run_at, id limit 1 for update skip locked)
returning id \\gset
update jobs set state = 'done', locked_by = null, locked_until = null, updated_at = now(), finished_at = now(),
  history = history || jsonb_build_array(jsonb_build_object('outcome', 'done', 'at', now()::text, 'attempt', 1, 'by', 'pgbench'))
where id = :id and locked_by = 'pgbench' and state = 'running';
`;

async function pgbenchClaims(
  db: BenchDatabase,
  pgbench: string,
  n: number,
  clients: number,
): Promise<{ clients: number; jobsPerSecond: number }> {
  const perClient = Math.floor(n / clients);
  // A few more than the clients take: a claim that finds none would fail its \\gset.
  await db.query(`insert into jobs (kind, payload, state, max_attempts, run_at, created_at, updated_at, priority)
    select 'bench.noop', '{}'::jsonb, 'queued', 1, now(), now(), now(), ${JOB_PRIORITY.background}
    from generate_series(1, ${perClient * clients + clients * 2}); analyze jobs;`);
  const dir = await mkdtemp(join(tmpdir(), 'slipway-pgbench-jobs-'));
  try {
    const script = join(dir, 'claim.pgb');
    await writeFile(script, CLAIM_SCRIPT);
    const args = [
      '-n',
      '-f',
      script,
      '-c',
      String(clients),
      '-j',
      '2',
      '-t',
      String(perClient),
      '-M',
      'prepared',
      db.url,
    ];
    const { stdout } = await run(pgbench, args, { maxBuffer: 16 * 1024 * 1024 });
    const tps = /^tps = ([\d.]+)/m.exec(stdout)?.[1];
    if (!tps) throw new Error(`unexpected pgbench output:\n${stdout}`);
    return { clients, jobsPerSecond: Number(tps) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
