/**
 * The credit invariants of resizes, checked straight from the tables: credits conserved
 * (balance = Σ ledger, held = Σ pending holds, nothing overspent); each resource's cost is
 * exactly what the ledger took for it (charges minus refunds) and never below 0; a resource's
 * resize hold is pending; no pending resize hold belongs to no resource.
 */
import { type Kysely, sql } from 'kysely';
import { expect } from 'vitest';
import type { Slipway, SlipwayDatabase } from '../../src/index.js';

export async function checkMoney(slipway: Slipway, db: Kysely<SlipwayDatabase>, accountId = 'alice') {
  const audit = await slipway.ledger.audit(db, accountId);
  expect(audit.balance).toBe(audit.ledgerSum);
  expect(audit.held).toBe(audit.pendingSum);
  expect(audit.balance - audit.held).toBeGreaterThanOrEqual(0);
  const rows = await sql<{ id: string; cost: number; taken: number; hold: string | null; hold_state: string | null }>`
    select r.id, r.cost, r.resize_reservation_id as hold, v.state as hold_state,
      -coalesce((select sum(amount) from ledger_entries l where l.resource_id = r.id), 0)::int8 as taken
    from resources r left join reservations v on v.id = r.resize_reservation_id`.execute(db);
  for (const r of rows.rows) {
    expect(Number(r.cost), `cost of ${r.id}`).toBe(Number(r.taken));
    expect(Number(r.cost)).toBeGreaterThanOrEqual(0);
    if (r.hold) expect(r.hold_state).toBe('pending');
  }
  const stray = await sql<{ n: number }>`
    select count(*)::int8 as n from reservations v where v.purpose = 'resize' and v.state = 'pending'
      and not exists (select 1 from resources r where r.resize_reservation_id = v.id)`.execute(db);
  expect(Number(stray.rows[0]?.n)).toBe(0);
  return audit;
}

/** Every resource's resize state is whole: a pending spec ⇔ a stored delta; a hold only with a positive delta. */
export async function checkResizeState(db: Kysely<SlipwayDatabase>) {
  const rows = await db
    .selectFrom('resources')
    .select(['id', 'pending_spec', 'resize_delta', 'resize_reservation_id', 'operation'])
    .execute();
  for (const r of rows) {
    if (r.operation?.action === 'RESIZE') continue; // its claim holds before the pending spec is stored
    expect(r.pending_spec === null, `resource ${r.id}`).toBe(r.resize_delta === null);
    if (r.resize_reservation_id) expect(r.resize_delta, `resource ${r.id}`).toBeGreaterThan(0);
  }
}
