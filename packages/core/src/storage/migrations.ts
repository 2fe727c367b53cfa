/**
 * Schema migrations, in code so they ship inside the package. Append only: never edit a
 * migration that has been released; add a new one.
 */
import { type Kysely, sql } from 'kysely';
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration';

const m001_foundation: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('user', 'admin')`))
      .addColumn('forge_id', 'text', (c) => c.unique())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable('wallets')
      .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id'))
      .addColumn('balance', 'int8', (c) => c.notNull().defaultTo(0))
      .addColumn('held', 'int8', (c) => c.notNull().defaultTo(0).check(sql`held >= 0`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable('ledger_entries')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('amount', 'int8', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('grant', 'charge', 'adjustment')`))
      .addColumn('reservation_id', 'uuid', (c) => c.unique())
      .addColumn('resource_id', 'uuid')
      .addColumn('actor_id', 'text')
      .addColumn('note', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('ledger_entries_account').on('ledger_entries').column('account_id').execute();

    await db.schema
      .createTable('reservations')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('amount', 'int8', (c) => c.notNull().check(sql`amount > 0`))
      .addColumn('state', 'text', (c) =>
        c.notNull().check(sql`state in ('pending', 'committed', 'released', 'expired')`),
      )
      .addColumn('resource_id', 'uuid')
      .addColumn('charged', 'int8', (c) => c.check(sql`charged >= 0 and charged <= amount`))
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('settled_at', 'timestamptz')
      .execute();
    await db.schema.createIndex('reservations_account').on('reservations').column('account_id').execute();
    await sql`create index reservations_pending_expiry on reservations (expires_at) where state = 'pending'`.execute(
      db,
    );

    await db.schema
      .createTable('resources')
      .addColumn('id', 'uuid', (c) => c.primaryKey())
      .addColumn('owner_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('vm', 'pod')`))
      .addColumn('provisioner', 'text', (c) => c.notNull())
      .addColumn('spec', 'jsonb', (c) => c.notNull())
      .addColumn('options', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text')
      .addColumn('ip', 'text')
      .addColumn('ssh_port', 'integer')
      .addColumn('cockpit_url', 'text')
      .addColumn('allocation_data', 'jsonb')
      .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('labels', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('expires_at', 'timestamptz')
      .addColumn('cost', 'int8', (c) => c.notNull().defaultTo(0))
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('request_params', 'jsonb', (c) => c.notNull())
      .addColumn('reservation_id', 'uuid', (c) => c.references('reservations.id'))
      .addColumn('error', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('released_at', 'timestamptz')
      .addUniqueConstraint('resources_owner_request', ['owner_id', 'request_id'])
      .execute();
    await db.schema
      .createIndex('resources_owner_created')
      .on('resources')
      .columns(['owner_id', 'created_at', 'id'])
      .execute();
    await db.schema.createIndex('resources_status').on('resources').column('status').execute();

    await db.schema
      .createTable('events')
      .addColumn('seq', 'bigserial', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('vm', 'system', 'admin')`))
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull().check(sql`severity in ('info', 'warning', 'critical')`))
      .addColumn('actor_id', 'text')
      .addColumn('owner_id', 'text')
      .addColumn('resource_id', 'uuid')
      .addColumn('data', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex('events_owner_seq').on('events').columns(['owner_id', 'seq']).execute();
    await db.schema.createIndex('events_resource_seq').on('events').columns(['resource_id', 'seq']).execute();
  },
};

const m002_jobs_store_limits: Migration = {
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

/**
 * Resource operations (power, resize, hotplug): the one in-flight operation per resource and
 * the last one's outcome, a pending resize and the hold behind it, attached devices; holds get
 * a purpose (a resize hold is not an allocation's and is never swept as one); refunds of a
 * smaller resize are ledger entries of their own kind.
 */
const m003_resource_operations: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('resources')
      .addColumn('operation', 'jsonb')
      .addColumn('last_operation', 'jsonb')
      .addColumn('pending_spec', 'jsonb')
      .addColumn('resize_delta', 'int8')
      .addColumn('resize_reservation_id', 'uuid', (c) => c.references('reservations.id'))
      .addColumn('devices', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .execute();
    await db.schema
      .alterTable('reservations')
      .addColumn('purpose', 'text', (c) =>
        c.notNull().defaultTo('allocation').check(sql`purpose in ('allocation', 'resize')`),
      )
      .execute();
    await sql`alter table ledger_entries drop constraint ledger_entries_kind_check`.execute(db);
    await sql`alter table ledger_entries add constraint ledger_entries_kind_check
      check (kind in ('grant', 'charge', 'adjustment', 'refund'))`.execute(db);
  },
};

const m004_hosts: Migration = {
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

/**
 * The orphan reaper (resources/reaper/): one row per sweep of a provisioner's inventory (per
 * host for host-placed ones), and the machines seen without a live resource behind them, with
 * when each was first seen, so one is released only after the grace period.
 */
const m005_reaper: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('reaper_sweeps')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('provisioner', 'text', (c) => c.notNull())
      .addColumn('host', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('started_at', 'timestamptz', (c) => c.notNull())
      .addColumn('finished_at', 'timestamptz')
      .addColumn('listed', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('orphans_seen', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('released', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('marked_gone', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error', 'text')
      .execute();
    await db.schema
      .createIndex('reaper_sweeps_scope')
      .on('reaper_sweeps')
      .columns(['provisioner', 'host', 'started_at'])
      .execute();
    await db.schema
      .createTable('reaper_sightings')
      .addColumn('provisioner', 'text', (c) => c.notNull())
      .addColumn('host', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text')
      .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull())
      .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
      .addColumn('released_at', 'timestamptz')
      .addPrimaryKeyConstraint('reaper_sightings_pk', ['provisioner', 'host', 'external_id'])
      .execute();
  },
};

/**
 * A job's history: the outcome of each run and each takeover (a lease that ran out with the
 * job running), so a crash is told apart from a provisioner failure (jobs/job-history.ts).
 */
const m006_job_history: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('jobs')
      .addColumn('history', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .execute();
  },
};

/** Every migration, in order. Names sort lexically. */
export const MIGRATIONS: Record<string, Migration> = {
  '001_foundation': m001_foundation,
  '002_jobs_store_limits': m002_jobs_store_limits,
  '003_resource_operations': m003_resource_operations,
  '004_hosts': m004_hosts,
  '005_reaper': m005_reaper,
  '006_job_history': m006_job_history,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

const MIGRATION_TABLE = 'slipway_migrations';

/** Apply pending migrations. Safe to call from several replicas at once (Kysely locks). */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  // Every start lands here; on a current database Kysely's migrator would still create its
  // tables if missing, take its lock in a transaction and read the list (≈100–250 ms on
  // PGlite). One read says whether there is anything to do at all.
  if (await allApplied(db)) return [];
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: 'slipway_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when the applied migrations are exactly ours (a newer release's extra ones are the migrator's to report). */
async function allApplied(db: Kysely<unknown>): Promise<boolean> {
  const exists = await sql<{ found: string | null }>`select to_regclass(${MIGRATION_TABLE}) as found`.execute(db);
  if (!exists.rows[0]?.found) return false;
  const applied = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db);
  const names = Object.keys(MIGRATIONS);
  return applied.rows.length === names.length && applied.rows.every((row, i) => row.name === names[i]);
}
