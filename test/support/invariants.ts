/** Database-level invariants every crash, replica and simulation test checks. */

import type { SlipwayDatabase } from '@slipway/core';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export interface InvariantReport {
  accounts: number;
  resources: number;
  problems: string[];
}

/**
 * Credits conserved and every resource backed by exactly the right hold state:
 *   balance = Σ ledger, held = Σ pending holds, balance − held ≥ 0,
 *   PROVISIONING ⇔ pending; RUNNING/STOPPED/RELEASING/RELEASED/EXPIRED/GONE ⇔ committed (one charge);
 *   FAILED ⇔ released or expired (refund policy), or committed if it ran before failing;
 *   each resource's cost = what the ledger took for it (its allocation and resize charges
 *   minus resize refunds; the price to come while its allocation hold is pending), never below 0; a resize hold is pending while a resource names
 *   it, and no pending resize hold is named by no resource;
 *   at most one resource per (owner, requestId).
 */
export async function checkInvariants(db: Kysely<SlipwayDatabase>): Promise<InvariantReport> {
  const problems: string[] = [];
  const wallets = await sql<{ account_id: string; balance: number; held: number; ledger: number; pending: number }>`
    select w.account_id, w.balance, w.held,
      coalesce((select sum(amount) from ledger_entries l where l.account_id = w.account_id), 0)::int8 as ledger,
      coalesce((select sum(amount) from reservations r where r.account_id = w.account_id and r.state = 'pending'), 0)::int8 as pending
    from wallets w`.execute(db);
  for (const w of wallets.rows) {
    if (Number(w.balance) !== Number(w.ledger))
      problems.push(`${w.account_id}: balance ${w.balance} ≠ ledger ${w.ledger}`);
    if (Number(w.held) !== Number(w.pending)) problems.push(`${w.account_id}: held ${w.held} ≠ pending ${w.pending}`);
    if (Number(w.balance) - Number(w.held) < 0) problems.push(`${w.account_id}: overspent (${w.balance} − ${w.held})`);
  }
  const rows = await sql<{
    id: string;
    status: string;
    state: string | null;
    charges: number;
    ran: boolean;
    cost: number;
    taken: number;
    resize_hold: string | null;
  }>`
    select r.id, r.status, v.state, r.external_id is not null as ran, r.cost,
      (select count(*) from ledger_entries l where l.reservation_id = r.reservation_id)::int8 as charges,
      -coalesce((select sum(amount) from ledger_entries l where l.resource_id = r.id), 0)::int8 as taken,
      (select state from reservations z where z.id = r.resize_reservation_id) as resize_hold
    from resources r left join reservations v on v.id = r.reservation_id`.execute(db);
  const expected: Record<string, string[]> = {
    PROVISIONING: ['pending'],
    RUNNING: ['committed'],
    STOPPED: ['committed'],
    RELEASING: ['committed'],
    RELEASED: ['committed'],
    EXPIRED: ['committed'],
    FAILED: ['released', 'expired'],
    UNKNOWN: ['committed'],
    GONE: ['committed'], // the machine vanished at the provider: the charge stays
  };
  for (const r of rows.rows) {
    // A machine that failed after it ran keeps its charge; a failed allocation never charges.
    // A failed allocation (never ran, hold given back) that its owner then releases ends RELEASED uncharged.
    const allowed =
      r.status === 'FAILED' && r.ran
        ? ['committed']
        : r.status === 'RELEASED' && !r.ran
          ? ['committed', 'released', 'expired']
          : expected[r.status];
    if (!allowed?.includes(r.state ?? 'none')) problems.push(`resource ${r.id} is ${r.status} with hold ${r.state}`);
    if (Number(r.charges) > 1) problems.push(`resource ${r.id} charged ${r.charges} times`);
    // While the allocation hold is pending, cost is the price to be charged, not yet taken.
    if (r.state !== 'pending' && (Number(r.cost) !== Number(r.taken) || Number(r.cost) < 0)) {
      problems.push(`resource ${r.id} costs ${r.cost} but the ledger took ${r.taken}`);
    }
    if (r.resize_hold !== null && r.resize_hold !== 'pending') {
      problems.push(`resource ${r.id} names a ${r.resize_hold} resize hold`);
    }
  }
  const strayResizeHolds = await sql<{ id: string }>`
    select v.id from reservations v where v.purpose = 'resize' and v.state = 'pending'
      and not exists (select 1 from resources r where r.resize_reservation_id = v.id)`.execute(db);
  for (const v of strayResizeHolds.rows) problems.push(`resize hold ${v.id} is pending for no resource`);
  const dupes = await sql<{ owner_id: string; request_id: string; n: number }>`
    select owner_id, request_id, count(*)::int8 as n from resources group by 1, 2 having count(*) > 1`.execute(db);
  for (const d of dupes.rows) problems.push(`request ${d.owner_id}/${d.request_id} has ${d.n} resources`);
  return { accounts: wallets.rows.length, resources: rows.rows.length, problems };
}

/** Nothing left to do: no active jobs and no resource in a transient state. */
export async function quiesced(db: Kysely<SlipwayDatabase>): Promise<boolean> {
  const jobs = await db
    .selectFrom('jobs')
    .select(sql<number>`count(*)`.as('n'))
    .where('state', 'in', ['queued', 'running'])
    // The orphan reaper's next sweep is always queued, for later: it is not unsettled work.
    .where((eb) => eb.or([eb('kind', '!=', 'reaper.sweep'), eb('state', '=', 'running')]))
    .executeTakeFirstOrThrow();
  const busy = await db
    .selectFrom('resources')
    .select(sql<number>`count(*)`.as('n'))
    .where('status', 'in', ['PROVISIONING', 'RELEASING'])
    .executeTakeFirstOrThrow();
  return Number(jobs.n) === 0 && Number(busy.n) === 0;
}
