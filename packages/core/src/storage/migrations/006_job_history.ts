import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * A job's history: the outcome of each run and each takeover (a lease that ran out with the
 * job running), so a crash is told apart from a provisioner failure (jobs/job-history.ts).
 */
export const m006_job_history: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('jobs')
      .addColumn('history', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .execute();
  },
};
