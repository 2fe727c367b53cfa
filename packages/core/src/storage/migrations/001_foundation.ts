import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

export const m001_foundation: Migration = {
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
