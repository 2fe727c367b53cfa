import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Resource operations (power, resize, hotplug): the one in-flight operation per resource and
 * the last one's outcome, a pending resize and the hold behind it, attached devices; holds get
 * a purpose (a resize hold is not an allocation's and is never swept as one); refunds of a
 * smaller resize are ledger entries of their own kind.
 */
export const m003_resource_operations: Migration = {
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
