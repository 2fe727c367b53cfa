import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The orphan reaper (resources/reaper/): one row per sweep of a provisioner's inventory (per
 * host for host-placed ones), and the machines seen without a live resource behind them, with
 * when each was first seen, so one is released only after the grace period.
 */
export const m005_reaper: Migration = {
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
