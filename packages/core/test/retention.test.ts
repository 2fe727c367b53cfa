/**
 * Retention: events, finished resources and released machines' store rows age out after
 * their periods; recent rows and live resources stay; the ledger is never pruned and its
 * invariants hold.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { RetentionSettings, Slipway } from '../src/index.js';
import { type TestStorage, testEngines } from '../src/testing/index.js';
import { alice, DAY, type RetentionSetup, retentionSlipway, vmInput } from './support/retention-slipway.js';

const engines = await testEngines();

describe.each(engines)('retention on %s', (engine) => {
  let setup: RetentionSetup;
  let storage: TestStorage;
  let slipway: Slipway;
  afterEach(async () => {
    await setup?.close();
  });
  /** A Slipway with these retention periods and alice with 1000 credits. */
  const start = async (retention: Partial<RetentionSettings>) => {
    setup = await retentionSlipway(engine, retention);
    ({ storage, slipway } = setup);
    return setup.clock;
  };

  const count = async (table: 'ledger_entries' | 'reservations') =>
    Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(storage.db)).rows[0]?.n);

  it('old history goes, recent history and live resources stay, the ledger is untouched', async () => {
    const clock = await start({
      eventsMs: 90 * DAY,
      finishedResourcesMs: 30 * DAY,
      releasedMachinesMs: 7 * DAY,
      batchSize: 2,
    });
    const old = await slipway.resources.create(alice, vmInput('old'));
    const recent = await slipway.resources.create(alice, vmInput('recent'));
    const live = await slipway.resources.create(alice, vmInput('live'));
    await slipway.resources.release(alice, old.id);
    clock.advance(31 * DAY);
    await slipway.resources.release(alice, recent.id);
    // Events and store rows carry wall-clock times: age the old resource's ones by hand.
    await sql`update events set created_at = created_at - interval '91 days' where resource_id = ${old.id}`.execute(
      storage.db,
    );
    await sql`update provisioner_store set retired_at = retired_at - interval '8 days'
      where key = ${`machine/${old.id}`}`.execute(storage.db);
    const ledgerBefore = { entries: await count('ledger_entries'), holds: await count('reservations') };
    const before = await slipway.ledger.audit(storage.db, 'alice');

    const { retained } = await slipway.sweep();

    expect(retained).toMatchObject({ resources: 1, machines: 1 });
    expect(retained.events).toBeGreaterThan(0);
    const ids = (await storage.db.selectFrom('resources').select('id').execute()).map((r) => r.id);
    expect(ids.sort()).toEqual([recent.id, live.id].sort());
    const eventsOf = async (id: string) =>
      (await storage.db.selectFrom('events').select('seq').where('resource_id', '=', id).execute()).length;
    expect(await eventsOf(old.id)).toBe(0);
    expect(await eventsOf(recent.id)).toBeGreaterThan(0);
    expect(await eventsOf(live.id)).toBeGreaterThan(0);
    const keys = (await storage.db.selectFrom('provisioner_store').select('key').execute()).map((r) => r.key);
    expect(keys.sort()).toEqual([`machine/${recent.id}`, `machine/${live.id}`].sort());

    // The ledger: every entry and hold kept, the sums as they were.
    expect({ entries: await count('ledger_entries'), holds: await count('reservations') }).toEqual(ledgerBefore);
    const after = await slipway.ledger.audit(storage.db, 'alice');
    expect(after).toEqual(before);
    expect(after.balance).toBe(after.ledgerSum);
    expect(after.held).toBe(after.pendingSum);
    // The user's own list still shows what is live.
    const page = await slipway.resources.list(alice);
    expect(page.items.map((r) => r.id)).toContain(live.id);
    expect((await slipway.resources.get(alice, live.id)).status).toBe('RUNNING');
  });

  it('keeps a FAILED resource whose machine is still at the provider, and one a pending hold names', async () => {
    const clock = await start({ eventsMs: null, finishedResourcesMs: 30 * DAY, releasedMachinesMs: null });
    const failedWithMachine = await slipway.resources.create(alice, vmInput('broken'));
    const held = await slipway.resources.create(alice, vmInput('held'));
    const plain = await slipway.resources.create(alice, vmInput('plain'));
    // A machine that failed at the provider after it ran: FAILED, its machine still there.
    await storage.db
      .updateTable('resources')
      .set({ status: 'FAILED' })
      .where('id', '=', failedWithMachine.id)
      .execute();
    // A finished resource that a pending hold still names (e.g. a resize hold left over).
    await slipway.resources.release(alice, held.id);
    await slipway.resources.release(alice, plain.id);
    await slipway.ledger.reserve(storage.db, {
      reservationId: '018f0000-0000-7000-8000-000000000001',
      accountId: 'alice',
      amount: 5,
      expiresAt: new Date(Date.now() + 3_600_000),
      resourceId: held.id,
      purpose: 'resize',
    });
    clock.advance(31 * DAY);
    const { retained } = await slipway.sweep();
    expect(retained.resources).toBe(1);
    const ids = (await storage.db.selectFrom('resources').select('id').execute()).map((r) => r.id);
    expect(ids.sort()).toEqual([failedWithMachine.id, held.id].sort());
  });

  it('a null period keeps that history for ever', async () => {
    const clock = await start({ eventsMs: null, finishedResourcesMs: null, releasedMachinesMs: null });
    const r = await slipway.resources.create(alice, vmInput('kept'));
    await slipway.resources.release(alice, r.id);
    clock.advance(3650 * DAY);
    await sql`update events set created_at = created_at - interval '3650 days'`.execute(storage.db);
    expect((await slipway.sweep()).retained).toEqual({ events: 0, resources: 0, machines: 0 });
    expect((await slipway.resources.get(alice, r.id)).status).toBe('RELEASED');
  });
});
