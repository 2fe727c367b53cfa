/**
 * Seed a large, realistic table by SQL (the list-plan test and `npm run bench` scale section):
 * `users` accounts, one of which owns `bigOwnerShare` of the resources, the rest spread
 * evenly; created_at every 30 s from a year ago, with time-ordered (UUIDv7) ids as the core makes
 * them; about `eventsPerResource` events each. Every resource is settled the way the core
 * settles it, so the ledger invariants hold: a committed hold with one charge (or a released
 * one, uncharged, for an allocation that failed), and a grant per user that covers it all.
 */
import type { SlipwayDatabase } from '@slipway/core';
import { type Kysely, sql } from 'kysely';

export interface ScaleSeedOptions {
  /** Resources in the table after seeding. */
  resources: number;
  /** Resources a previous `seedScale` left (default 0): this one adds the rest, with the same users. */
  from?: number;
  users?: number;
  /** Share of all resources owned by one account (`bigOwner`). Default 0.1. */
  bigOwnerShare?: number;
  eventsPerResource?: number;
}

export interface ScaleSeed {
  bigOwner: string;
  /** An ordinary user with about resources / users of them. */
  smallOwner: string;
  resources: number;
  events: number;
}

export const SCALE_PROVISIONERS = ['demo', 'pool', 'qemu', 'digitalocean'] as const;

/** created_at → a UUIDv7 of that millisecond (the version and variant bits set, the rest random). */
const UUIDV7_SQL = sql`
  create or replace function pg_temp.uuidv7_at(ts timestamptz) returns uuid language sql volatile as $$
    select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
      placing substring(int8send(floor(extract(epoch from ts) * 1000)::int8) from 3) from 1 for 6),
      52, 1), 53, 1), 'hex')::uuid
  $$`;

export async function seedScale(db: Kysely<SlipwayDatabase>, options: ScaleSeedOptions): Promise<ScaleSeed> {
  const n = options.resources;
  const from = options.from ?? 0;
  const users = options.users ?? 1_000;
  const bigEvery = Math.max(1, Math.round(1 / (options.bigOwnerShare ?? 0.1)));
  const events = options.eventsPerResource ?? 5;
  const bigOwner = 'scale-big';
  const smallOwner = 'scale-user-1';
  // pg_temp functions live per session: run the seed on one connection.
  await db.connection().execute(async (c) => {
    await UUIDV7_SQL.execute(c);
    await sql`insert into accounts (id, role)
      select case when u = 0 then ${bigOwner} else 'scale-user-' || u end, 'user'
      from generate_series(0, ${users - 1}::int) u on conflict do nothing`.execute(c);
    // Statuses in the mix a long-lived install has: most released, some running.
    // One row every 30 s from a year ago: a million fit, and a later seed appends newer rows.
    await sql`create temp table scale_rows as
      select i, ts, pg_temp.uuidv7_at(ts) as id, pg_temp.uuidv7_at(ts) as reservation_id,
        case when i % ${bigEvery} = 0 then ${bigOwner} else 'scale-user-' || (1 + (i::int8 * 7919) % ${users - 1}::int) end as owner_id,
        (array['demo','pool','qemu','digitalocean'])[(1 + (i::int8 * 31) % 4)::int] as provisioner,
        case when i % 20 < 4 then 'RUNNING' when i % 20 = 4 then 'STOPPED' when i % 20 = 5 then 'FAILED'
             when i % 20 = 6 then 'EXPIRED' else 'RELEASED' end as status,
        10 + (i % 7) * 10 as price
      from (select i, date_trunc('milliseconds', now() - interval '365 days' + i * interval '30 seconds') as ts
            from generate_series(${from + 1}::int, ${n}::int) i) s`.execute(c);
    await sql`insert into reservations (id, account_id, amount, state, resource_id, charged, expires_at, created_at, settled_at)
      select reservation_id, owner_id, price, case when status = 'FAILED' then 'released' else 'committed' end, id,
        case when status = 'FAILED' then null else price end, ts + interval '10 minutes', ts, ts + interval '1 second'
      from scale_rows`.execute(c);
    await sql`insert into resources (id, owner_id, name, kind, provisioner, spec, status, external_id, cost, request_id,
        request_params, reservation_id, labels, created_at, updated_at, released_at)
      select id, owner_id, 'vm-' || i, 'vm', provisioner, '{"vcpu":1,"memoryMb":1024,"diskGb":10}', status,
        case when status = 'FAILED' then null else 'ext-' || i end, case when status = 'FAILED' then 0 else price end,
        'req-' || i, '{}', reservation_id, jsonb_build_object('team', 't' || (i % 50)), ts, ts,
        case when status in ('RELEASED', 'EXPIRED') then ts + interval '1 day' end
      from scale_rows`.execute(c);
    await sql`insert into ledger_entries (account_id, amount, kind, reservation_id, resource_id, created_at)
      select owner_id, -price, 'charge', reservation_id, id, ts from scale_rows where status <> 'FAILED'`.execute(c);
    await sql`insert into ledger_entries (account_id, amount, kind, note)
      select a.id, coalesce(sum(r.price) filter (where r.status <> 'FAILED'), 0) + ${from === 0 ? 100_000 : 0}::int8,
        'grant', 'scale seed'
      from accounts a left join scale_rows r on r.owner_id = a.id where a.id like 'scale-%' group by a.id`.execute(c);
    await sql`insert into wallets (account_id, balance, held)
      select account_id, sum(amount), 0 from ledger_entries where account_id like 'scale-%' group by account_id
      on conflict (account_id) do update set balance = excluded.balance`.execute(c);
    await sql`insert into events (type, action, severity, owner_id, actor_id, resource_id, data, created_at)
      select 'vm', (array['resource.created','resource.allocated','resource.action','resource.released','resource.expired'])[k],
        'info', r.owner_id, r.owner_id, r.id, '{}', r.ts + k * interval '1 second'
      from scale_rows r cross join generate_series(1, ${events}::int) k order by r.ts, k`.execute(c);
    await sql`drop table scale_rows`.execute(c);
  });
  await sql`analyze`.execute(db);
  return { bigOwner, smallOwner, resources: n, events: n * events };
}

/**
 * The ledger invariants of test/support/invariants.ts, set-based (that one asks per resource,
 * which a million rows make quadratic): balance = Σ ledger, held = Σ pending holds, and each
 * resource's cost is what the ledger took for it.
 */
export async function scaleInvariantProblems(db: Kysely<SlipwayDatabase>): Promise<string[]> {
  const { rows } = await sql<{ problem: string }>`
    select 'wallet ' || w.account_id || ': balance ' || w.balance || ' ≠ ledger ' || coalesce(l.sum, 0) as problem
      from wallets w left join (select account_id, sum(amount) from ledger_entries group by 1) l using (account_id)
      where w.balance <> coalesce(l.sum, 0)
    union all
    select 'wallet ' || w.account_id || ': held ' || w.held || ' ≠ pending ' || coalesce(p.sum, 0)
      from wallets w left join (select account_id, sum(amount) from reservations where state = 'pending' group by 1) p
        using (account_id)
      where w.held <> coalesce(p.sum, 0)
    union all
    select 'resource ' || r.id || ' costs ' || r.cost || ' but the ledger took ' || coalesce(-t.sum, 0)
      from resources r left join (select resource_id, sum(amount) from ledger_entries where resource_id is not null
        group by 1) t on t.resource_id = r.id
      join reservations v on v.id = r.reservation_id
      where v.state <> 'pending' and r.cost <> coalesce(-t.sum, 0)
    limit 20`.execute(db);
  return rows.map((r) => r.problem);
}
