/**
 * Schema migrations, in code so they ship inside the package, one file each in
 * `migrations/`. Append only: never edit a migration that has been released; add a new one.
 */
import { type Kysely, sql } from 'kysely';
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration';
import { m001_foundation } from './migrations/001_foundation.js';
import { m002_jobs_store_limits } from './migrations/002_jobs_store_limits.js';
import { m003_resource_operations } from './migrations/003_resource_operations.js';
import { m004_hosts } from './migrations/004_hosts.js';
import { m005_reaper } from './migrations/005_reaper.js';
import { m006_job_history } from './migrations/006_job_history.js';
import { m008_background_work } from './migrations/008_background_work.js';
import { m009_list_indexes } from './migrations/009_list_indexes.js';

/** Every migration, in order. Names sort lexically. */
export const MIGRATIONS: Record<string, Migration> = {
  '001_foundation': m001_foundation,
  '002_jobs_store_limits': m002_jobs_store_limits,
  '003_resource_operations': m003_resource_operations,
  '004_hosts': m004_hosts,
  '005_reaper': m005_reaper,
  '006_job_history': m006_job_history,
  '008_background_work': m008_background_work,
  '009_list_indexes': m009_list_indexes,
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
