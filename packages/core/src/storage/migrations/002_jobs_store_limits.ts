import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m002_jobs_store_limits: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('provisioner_store')
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'jsonb', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('provisioner_store_pk', ['namespace', 'key'])
      .execute();

    await db.schema
      .createTable('jobs')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'jsonb', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('queued', 'running', 'done', 'dead')`))
      .addColumn('key', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('run_at', 'timestamptz', (c) => c.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('locked_until', 'timestamptz')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .addColumn('finished_at', 'timestamptz')
      .execute();
    await sql`create index jobs_ready on jobs (run_at) where state in ('queued', 'running')`.execute(db);
    await sql`create unique index jobs_active_key on jobs (key) where state in ('queued', 'running')`.execute(db);

    await db.schema
      .createTable('rate_limits')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('window_start', 'timestamptz', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('rate_limits_pk', ['account_id', 'action', 'window_start'])
      .execute();

    await db.schema.alterTable('resources').addColumn('error_code', 'text').execute();
    // Resource expiry scan.
    await sql`create index resources_expiry on resources (expires_at) where status in ('RUNNING', 'STOPPED')`.execute(
      db,
    );
  },
};
