/**
 * The ledger's hot statements, each one round trip and each atomic on its own (a single
 * statement is its own transaction when no transaction is open). The create and allocation
 * paths run them on every request, so they are named (prepared once per connection).
 */
import { statement } from '../storage/prepared.js';

/** $1 account, $2 role: the account (role kept current) and its empty wallet. */
export const ENSURE_ACCOUNT = statement(
  'ledger.ensure_account',
  `with account as (
     insert into accounts (id, role, forge_id) values ($1, $2, null)
     on conflict (id) do update set role = excluded.role where accounts.role <> excluded.role
   )
   insert into wallets (account_id, updated_at) values ($1, now())
   on conflict (account_id) do nothing`,
);

/**
 * The hold, as two CTEs (`held`, then `hold` returning the reservation's id) for statements
 * that hold credits and go on writing: $1 account, $2 amount, $3 reservation id, $4 purpose,
 * $5 resource id, $6 expires at. `held` raises the wallet's `held` only where
 * `balance − held` covers the amount, so no interleaving of holds can overspend: the
 * condition and the raise are one row update. No `hold` row: not enough credits.
 */
export const HOLD_CTES = `held as (
     update wallets set held = held + $2::int8, updated_at = now()
     where account_id = $1 and balance - held >= $2::int8
     returning account_id
   ), hold as (
     insert into reservations (id, account_id, amount, state, purpose, resource_id, expires_at, created_at)
     select $3::uuid, account_id, $2::int8, 'pending', $4, $5::uuid, $6::timestamptz, now()
     from held
     returning id
   )`;

/** The hold on its own (CreditLedger.reserve). */
export const RESERVE = statement<{ id: string }>('ledger.reserve', `with ${HOLD_CTES} select id from hold`);

/**
 * $1 reservation, $2 charge (null: the whole hold; never more than it), $3 resource id
 * (null: the reservation's), $4 actor. Settles a pending hold, takes the charge from the
 * balance, frees the hold and writes the charge entry; no row when it was not pending.
 */
export const COMMIT = statement<{ charged: number }>(
  'ledger.commit',
  `with settled as (
     update reservations
     set state = 'committed', settled_at = now(), charged = least(coalesce($2::int8, amount), amount)
     where id = $1::uuid and state = 'pending'
     returning account_id, amount, charged, resource_id
   ), wallet as (
     update wallets w
     set balance = w.balance - s.charged, held = w.held - s.amount, updated_at = now()
     from settled s
     where w.account_id = s.account_id
   ), entry as (
     insert into ledger_entries (account_id, amount, kind, reservation_id, resource_id, actor_id, note, created_at)
     select account_id, -charged, 'charge', $1::uuid, coalesce($3::uuid, resource_id), $4, null, now()
     from settled
     where charged > 0
   )
   select charged from settled`,
);

/** $1 reservation, $2 final state (`released`, `expired`): frees a pending hold without a charge. */
export const RELEASE = statement<{ account_id: string }>(
  'ledger.release',
  `with settled as (
     update reservations set state = $2, settled_at = now(), charged = null
     where id = $1::uuid and state = 'pending'
     returning account_id, amount
   )
   update wallets w set held = w.held - s.amount, updated_at = now()
   from settled s
   where w.account_id = s.account_id
   returning w.account_id`,
);
