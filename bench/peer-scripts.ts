/**
 * pgbench scripts of the admission as peers implement it, each re-implemented in a few lines
 * of SQL on the same database, beside ours. One pgbench "transaction" = one admission of
 * `amount` credits for a random owner `base + random(1, nw)`; a refused one ends early.
 *
 * - ours: the hold (ledger-statements.ts HOLD_CTES) then the charge, one statement each.
 * - Coder: a per-owner advisory lock, then the sum of the owner's active costs against the
 *   allowance, then the new cost (enterprise/coderd/committer.go, in one transaction).
 * - Nova: the reserve/commit quota tables of OpenStack Nova's old quota engine
 *   (nova/db/sqlalchemy/api.py quota_reserve and reservation_commit): lock the usage row,
 *   check in_use + reserved + delta ≤ hard limit, raise `reserved` and insert a reservation;
 *   then lock both again, move the delta from `reserved` to `in_use` and soft-delete it.
 */
import { ADMISSION_AMOUNT } from './admission.js';

export type Peer = 'ours-hold' | 'coder' | 'nova-reserve' | 'ours' | 'nova';
export const PEERS: readonly Peer[] = ['ours-hold', 'coder', 'nova-reserve', 'ours', 'nova'];

/**
 * `admission`: the decision alone (our hold, Coder's check and insert, Nova's reserve);
 * `cycle`: the decision and the charge that settles it (our hold then commit, Nova's
 * reserve then commit). Coder has one phase only: its admission is its charge.
 */
export const PHASE: Record<Peer, 'admission' | 'cycle'> = {
  'ours-hold': 'admission',
  coder: 'admission',
  'nova-reserve': 'admission',
  ours: 'cycle',
  nova: 'cycle',
};

const HEAD = `\\set w random(1, :nw) + :base
\\set amount ${ADMISSION_AMOUNT}
`;

const OURS_HOLD = `${HEAD}with held as (
  update wallets set held = held + :amount::int8, updated_at = now()
  where account_id = :w::text and balance - held >= :amount::int8
  returning account_id
), hold as (
  insert into reservations (id, account_id, amount, state, purpose, resource_id, expires_at, created_at)
  select gen_random_uuid(), account_id, :amount::int8, 'pending', 'allocation', null::uuid,
         now() + interval '15 minutes', now()
  from held
  returning id
)
select count(*) as ok, coalesce(min(id::text), '') as id from hold \\gset
`;

const OURS = `${OURS_HOLD}\\if :ok
with settled as (
  update reservations set state = 'committed', settled_at = now(), charged = amount
  where id = :id::uuid and state = 'pending'
  returning account_id, amount, charged, resource_id
), wallet as (
  update wallets w set balance = w.balance - s.charged, held = w.held - s.amount, updated_at = now()
  from settled s where w.account_id = s.account_id
), entry as (
  insert into ledger_entries (account_id, amount, kind, reservation_id, resource_id, actor_id, note, created_at)
  select account_id, -charged, 'charge', :id::uuid, resource_id, null, null, now() from settled where charged > 0
)
select charged from settled;
\\endif
`;

const CODER = `${HEAD}BEGIN;
select pg_advisory_xact_lock(:w);
select coalesce(sum(cost), 0) as consumed from coder_builds where owner = :w and active \\gset
\\if :consumed + :amount <= :allowance
insert into coder_builds (owner, cost, active, created_at) values (:w, :amount, true, now());
\\endif
COMMIT;
`;

const NOVA_RESERVE_BODY = `BEGIN;
select in_use, reserved, hard_limit from nova_quota_usages where project_id = :w for update \\gset
\\if :in_use + :reserved + :amount <= :hard_limit
insert into nova_reservations (usage_id, delta, expire, created_at)
values (:w, :amount, now() + interval '1 day', now()) returning id as rid \\gset
update nova_quota_usages set reserved = reserved + :amount, updated_at = now() where project_id = :w;
COMMIT;
`;

const NOVA_RESERVE = `${HEAD}${NOVA_RESERVE_BODY}\\else
COMMIT;
\\endif
`;

const NOVA = `${HEAD}${NOVA_RESERVE_BODY}BEGIN;
select delta from nova_reservations where id = :rid and deleted = 0 for update \\gset
select in_use from nova_quota_usages where project_id = :w for update;
update nova_quota_usages set reserved = reserved - :delta, in_use = in_use + :delta, updated_at = now()
where project_id = :w;
update nova_reservations set deleted = id where id = :rid;
COMMIT;
\\else
COMMIT;
\\endif
`;

export const PEER_SCRIPTS: Record<Peer, string> = {
  'ours-hold': OURS_HOLD,
  coder: CODER,
  'nova-reserve': NOVA_RESERVE,
  ours: OURS,
  nova: NOVA,
};

/** The peers' tables, beside ours in the bench database. */
export const PEER_TABLES = `
create table if not exists coder_builds (
  id bigserial primary key, owner int8 not null, cost int8 not null, active boolean not null,
  created_at timestamptz not null
);
create index if not exists coder_builds_owner on coder_builds (owner) where active;
create table if not exists nova_quota_usages (
  project_id int8 primary key, in_use int8 not null default 0, reserved int8 not null default 0,
  hard_limit int8 not null, updated_at timestamptz not null default now()
);
create table if not exists nova_reservations (
  id bigserial primary key, usage_id int8 not null references nova_quota_usages, delta int8 not null,
  expire timestamptz not null, deleted int8 not null default 0, created_at timestamptz not null
);`;

const ourOwners = (base: number, owners: number) =>
  `account_id in (${Array.from({ length: owners }, (_, i) => `'${base + i + 1}'`).join(', ')})`;

/** Owners `base+1..base+owners` over their allowance after a race (must be 0). */
export function overspendSql(peer: Peer, base: number, owners: number, allowance: number): string {
  if (peer === 'coder') {
    return `select count(*)::int as n from (select owner from coder_builds where active and owner > ${base}
      and owner <= ${base + owners} group by owner having sum(cost) > ${allowance}) over`;
  }
  if (peer.startsWith('nova')) {
    return `select count(*)::int as n from nova_quota_usages where project_id > ${base}
      and project_id <= ${base + owners} and (in_use + reserved > hard_limit or reserved < 0)`;
  }
  return `select count(*)::int as n from wallets where ${ourOwners(base, owners)} and (held < 0 or balance < held)`;
}

/** Credits admitted in a race: charged plus still held (ours), costs (Coder), in use plus reserved (Nova). */
export function admittedSql(peer: Peer, base: number, owners: number, allowance: number): string {
  if (peer === 'coder') {
    return `select coalesce(sum(cost), 0)::int8 as n from coder_builds where owner > ${base} and owner <= ${base + owners}`;
  }
  if (peer.startsWith('nova')) {
    return `select coalesce(sum(in_use + reserved), 0)::int8 as n from nova_quota_usages
      where project_id > ${base} and project_id <= ${base + owners}`;
  }
  return `select coalesce(sum(${allowance} - balance + held), 0)::int8 as n from wallets where ${ourOwners(base, owners)}`;
}
