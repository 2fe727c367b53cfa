import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m004_hosts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('hosts')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('provisioner', 'text', (c) => c.notNull())
      .addColumn('vcpu', 'float8', (c) => c.notNull().check(sql`vcpu > 0`))
      .addColumn('memory_mb', 'integer', (c) => c.notNull().check(sql`memory_mb > 0`))
      .addColumn('disk_gb', 'integer', (c) => c.notNull().check(sql`disk_gb >= 0`))
      .addColumn('replica_id', 'text', (c) => c.notNull())
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('heartbeat_at', 'timestamptz', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('up', 'stopped', 'stale')`))
      .execute();
    await db.schema.alterTable('resources').addColumn('host', 'text').execute();
    await db.schema.alterTable('jobs').addColumn('host', 'text').execute();
    // Placement sums the specs of a host's live resources; staleness and restore scan them.
    await sql`create index resources_host on resources (host, status) where host is not null`.execute(db);
    // An UNKNOWN resource expires too (its release job waits for the host).
    await sql`drop index resources_expiry`.execute(db);
    await sql`create index resources_expiry on resources (expires_at) where status in ('RUNNING', 'STOPPED', 'UNKNOWN')`.execute(
      db,
    );
  },
};
