/**
 * The limit for createResource end to end: pgbench running the least a create must write,
 * in the core's statements: the admission (the hold and the PROVISIONING resource in one
 * statement, the allocate job inserted claimed) in one transaction; then the commit (the
 * charge, the resource RUNNING) in a second; then the job done. No idempotency lookup, rate
 * limit, events, provisioner or GraphQL: what createResource adds to it is the difference.
 */
import { ADMISSION_AMOUNT } from './admission.js';

export const MINIMAL_CREATE_SCRIPT = `\\set w random(1, :nw)
\\set amount ${ADMISSION_AMOUNT}
BEGIN;
with ids as materialized (select gen_random_uuid() as rid, gen_random_uuid() as hid),
held as (
  update wallets set held = held + :amount::int8, updated_at = now()
  where account_id = :w::text and balance - held >= :amount::int8
  returning account_id
), hold as (
  insert into reservations (id, account_id, amount, state, purpose, resource_id, expires_at, created_at)
  select ids.hid, account_id, :amount::int8, 'pending', 'allocation', ids.rid, now() + interval '15 minutes', now()
  from held, ids
  returning id, resource_id
)
insert into resources (id, owner_id, name, kind, provisioner, host, spec, options, status, metadata, labels,
                       expires_at, cost, request_id, request_params, reservation_id, created_at, updated_at)
select hold.resource_id, :w::text, 'bench', 'vm', 'demo', null, '{"vcpu":1,"memoryMb":512,"diskGb":10}'::jsonb,
       '{}'::jsonb, 'PROVISIONING', '{}'::jsonb, '{}'::jsonb, null, :amount::int8, gen_random_uuid()::text,
       '{}'::jsonb, hold.id, now(), now()
from hold
returning id as rid, reservation_id as hid \\gset
insert into jobs (kind, payload, state, key, max_attempts, run_at, host, created_at, updated_at,
                  attempts, locked_by, locked_until)
values ('resource.allocate', jsonb_build_object('resourceId', :rid::text), 'running', 'allocate:' || :rid::text,
        3, now(), null, now(), now(), 1, 'pgbench', now() + interval '30 seconds')
returning id as jid \\gset
COMMIT;
BEGIN;
select id from resources where id = :rid::uuid for update;
with settled as (
  update reservations set state = 'committed', settled_at = now(), charged = amount
  where id = :hid::uuid and state = 'pending'
  returning account_id, amount, charged, resource_id
), wallet as (
  update wallets w set balance = w.balance - s.charged, held = w.held - s.amount, updated_at = now()
  from settled s where w.account_id = s.account_id
), entry as (
  insert into ledger_entries (account_id, amount, kind, reservation_id, resource_id, actor_id, note, created_at)
  select account_id, -charged, 'charge', :hid::uuid, resource_id, null, null, now() from settled where charged > 0
)
select charged from settled;
update resources set status = 'RUNNING', external_id = 'bench', cost = :amount, updated_at = now()
where id = :rid::uuid;
COMMIT;
update jobs set state = 'done', locked_by = null, locked_until = null, finished_at = now(), updated_at = now()
where id = :jid;
`;
