import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Background work at the database's speed (docs/operations.md): job priorities with a claim
 * index in claim order, indexes whose predicates are the sweeps' own (the planner uses a
 * partial index only when the query's WHERE implies the index's), the lease that lets one
 * replica sweep at a time, and provisioner-store rows marked retired so retention can age
 * them out.
 */
export const m008_background_work: Migration = {
  async up(db: Kysely<unknown>) {
    // Lower runs first (graphile-worker's convention): 0 user-facing, 100 bulk background work.
    await db.schema
      .alterTable('jobs')
      .addColumn('priority', 'smallint', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`drop index jobs_ready`.execute(db);
    // The claim: queued jobs in (priority, run_at, id) order, and leases that ran out.
    await sql`create index jobs_queued on jobs (priority, run_at, id) where state = 'queued'`.execute(db);
    await sql`create index jobs_leases on jobs (locked_until) where state = 'running'`.execute(db);
    // Pruning finished jobs.
    await sql`create index jobs_done on jobs (finished_at) where state = 'done'`.execute(db);

    // The expiry sweep's predicate, word for word (resources/resource-repository.ts EXPIRABLE).
    await sql`drop index resources_expiry`.execute(db);
    await sql`create index resources_expiry on resources (expires_at)
      where status in ('RUNNING', 'STOPPED', 'UNKNOWN') or (status = 'FAILED' and external_id is not null)`.execute(db);
    // The operation sweep: resources with an operation in flight.
    await sql`create index resources_operation on resources (id) where operation is not null`.execute(db);
    // Retention: finished resources by when they finished.
    await sql`create index resources_finished on resources (updated_at)
      where status in ('RELEASED', 'EXPIRED', 'FAILED', 'GONE')`.execute(db);
    // Retention: events by age (seq grows with time; created_at is what the period is about).
    await sql`create index events_created on events (created_at)`.execute(db);

    await db.schema.alterTable('provisioner_store').addColumn('retired_at', 'timestamptz').execute();
    await sql`create index provisioner_store_retired on provisioner_store (retired_at) where retired_at is not null`.execute(
      db,
    );

    // One replica sweeps at a time: the holder of a named lease that it renews each tick.
    await db.schema
      .createTable('sweep_leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('until', 'timestamptz', (c) => c.notNull())
      .execute();
  },
};
