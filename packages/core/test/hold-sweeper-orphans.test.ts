/**
 * A pending hold whose resource row is gone (deleted, or never written) is released once its
 * lease runs out: the credits come back to the wallet, with an event, exactly once even when
 * two sweepers run at the same time, and the ledger's sums still hold. A hold still within
 * its lease is left alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, type Slipway, type SlipwayStorage } from '../src/index.js';
import {
  createTestStorage,
  type ManualClock,
  manualClock,
  type TestStorage,
  testEngines,
} from '../src/testing/index.js';
import { uuidv7 } from '../src/util/uuidv7.js';
import { QueryHook, selectMentioning } from './support/query-hook.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const MINUTE = 60_000;

describe.each(engines)('holds without a resource on %s', (engine) => {
  let storage: TestStorage;
  const apps: Slipway[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
    await storage.close();
  });

  const replica = async (clock: ManualClock, hook?: QueryHook) => {
    const database: SlipwayStorage = hook
      ? { ...storage, db: storage.db.withPlugin(hook), close: async () => {} }
      : storage;
    const app = await createSlipway({ database, clock, rateLimits: {}, sweepIntervalMs: 3_600_000 });
    apps.push(app);
    return app;
  };

  it('releases them once, on two sweepers at once; the ledger sums hold', async () => {
    storage = await createTestStorage(engine);
    const clock = manualClock(new Date());
    const hook = new QueryHook();
    const [a, b] = [await replica(clock, hook), await replica(clock)];
    await a.accounts.grant(admin, { accountId: 'alice', amount: 100 });
    const hold = async (amount: number, resourceId: string | null, expiresInMs: number) => {
      const reservationId = uuidv7();
      const expiresAt = new Date(clock.now().getTime() + expiresInMs);
      await a.ledger.reserve(storage.db, { reservationId, accountId: 'alice', amount, expiresAt, resourceId });
      return reservationId;
    };
    const deleted = await hold(30, uuidv7(), MINUTE); // its resource row was deleted
    const unnamed = await hold(20, null, MINUTE); // it never named one
    const current = await hold(7, uuidv7(), 10 * MINUTE); // within its lease: not yet
    expect(await a.ledger.wallet(storage.db, 'alice')).toMatchObject({ balance: 100, held: 57, available: 43 });

    clock.advance(2 * MINUTE);
    // Sweeper a reads the expired holds, then b sweeps them all before a goes on.
    let rb = 0;
    hook.arm(selectMentioning('reservations', 'expires_at', 'allocation'), async () => {
      rb = (await b.sweep()).holdsReconciled;
    });
    const ra = (await a.sweep()).holdsReconciled;

    expect(hook.fired).toBe(1);
    expect({ ra, rb }).toEqual({ ra: 0, rb: 2 }); // a found them released already
    expect(await a.ledger.wallet(storage.db, 'alice')).toMatchObject({ balance: 100, held: 7, available: 93 });
    expect(await a.ledger.reservationState(storage.db, deleted)).toBe('expired');
    expect(await a.ledger.reservationState(storage.db, unnamed)).toBe('expired');
    expect(await a.ledger.reservationState(storage.db, current)).toBe('pending');
    const audit = await a.ledger.audit(storage.db, 'alice');
    expect(audit.balance).toBe(audit.ledgerSum);
    expect(audit.held).toBe(audit.pendingSum);
    const events = await storage.db
      .selectFrom('events')
      .select('data')
      .where('action', '=', 'resource.hold_expired')
      .execute();
    expect(events.map((e) => (e.data as { reservationId: string }).reservationId).sort()).toEqual(
      [deleted, unnamed].sort(),
    );

    // Swept again (its lease over too): the last one goes, nothing is released twice.
    clock.advance(10 * MINUTE);
    const again = await Promise.all([a.sweep(), b.sweep()]);
    expect(again[0].holdsReconciled + again[1].holdsReconciled).toBe(1);
    expect(await a.ledger.wallet(storage.db, 'alice')).toMatchObject({ balance: 100, held: 0, available: 100 });
    const after = await a.ledger.audit(storage.db, 'alice');
    expect(after).toEqual({ balance: 100, ledgerSum: 100, held: 0, pendingSum: 0 });
  });
});
