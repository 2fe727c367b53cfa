import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * One index per way the API lists resources, each ending in the list order (created_at, id),
 * so every page is a Limit over an index scan from the cursor on, never a sort of the whole
 * match (docs/operations.md, "Indexes"; test/scale/list-plans.test.ts checks the plans).
 * Equality filters lead; a status list is one scan per status merged in order
 * (resource-list-query.ts), and a provisioner filter without statuses is every status.
 * (status) alone is a prefix of (status, created_at, id), which replaces it. The sweeps'
 * indexes are 008's.
 */
export const m009_list_indexes: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`create index resources_created on resources (created_at, id)`.execute(db);
    await sql`create index resources_status_created on resources (status, created_at, id)`.execute(db);
    await sql`drop index resources_status`.execute(db);
    await sql`create index resources_provisioner_status_created on resources (provisioner, status, created_at, id)`.execute(
      db,
    );
    await sql`create index resources_owner_status_created on resources (owner_id, status, created_at, id)`.execute(db);
    await sql`create index resources_owner_provisioner_status_created
      on resources (owner_id, provisioner, status, created_at, id)`.execute(db);
  },
};
