import { afterEach, describe, expect, it } from 'vitest';
import { EventLog, type NewEvent } from '../src/events/event-log.js';
import { type Actor, createSlipway, demoProvisioner, type Slipway } from '../src/index.js';
import { type ReleaseDone, releaseCompletions } from '../src/resources/jobs/release-completions.js';
import type { Executor } from '../src/storage/executor.js';
import { createTestStorage, manualClock, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };

/** An event log that counts its batch appends: one per transaction the completions commit. */
class CountingLog extends EventLog {
  batches: number[] = [];
  override appendMany(db: Executor, events: readonly NewEvent[]): Promise<number[]> {
    this.batches.push(events.length);
    return super.appendMany(db, events);
  }
}

describe.each(engines)('release completions (group commit) on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  const clock = manualClock();
  afterEach(async () => {
    await slipway?.close();
    await storage?.close();
  });

  /** `n` RUNNING demo machines, then marked RELEASING as the release flow and the expiry sweep leave them. */
  async function releasing(n: number): Promise<ReleaseDone['row'][]> {
    storage = await createTestStorage(engine);
    slipway = await createSlipway({
      database: storage,
      provisioners: [demoProvisioner()],
      clock: manualClock(),
      rateLimits: {},
    });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 10_000 });
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(
        (
          await slipway.resources.create(alice, {
            name: `vm${i}`,
            provisioner: 'demo',
            spec: { vcpu: 1, memoryMb: 512, diskGb: 1 },
            ttlSeconds: 60,
          })
        ).id,
      );
    }
    return storage.db
      .updateTable('resources')
      .set({ status: 'RELEASING' })
      .where('id', 'in', ids)
      .returning(['id', 'owner_id', 'expires_at'])
      .execute();
  }

  it('ends the releases that finish during a commit together, each with its one event', async () => {
    const rows = await releasing(12);
    const log = new CountingLog();
    const completions = releaseCompletions({
      db: storage.db,
      clock,
      events: log,
      ledger: slipway.ledger,
    });
    await Promise.all(rows.map((row, i) => completions.end({ row, expired: i % 2 === 0, actorId: null })));

    // The first goes alone at once; the other eleven waited for it and went in one transaction.
    expect(log.batches).toEqual([1, 11]);
    const statuses = await storage.db.selectFrom('resources').select(['id', 'status']).orderBy('id').execute();
    expect(statuses.filter((r) => r.status === 'EXPIRED')).toHaveLength(6);
    expect(statuses.filter((r) => r.status === 'RELEASED')).toHaveLength(6);
    const events = await slipway.events.list(storage.db, admin, { first: 100 });
    const ends = events.filter((e) => e.action === 'resource.expired' || e.action === 'resource.released');
    expect(ends.map((e) => e.resourceId).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(
      ends.filter((e) => e.action === 'resource.expired').every((e) => typeof e.data.expiryLagMs === 'number'),
    ).toBe(true);

    // Ending one again (a retried job) writes nothing.
    const [first] = rows;
    if (first) await completions.end({ row: first, expired: false, actorId: null });
    const again = await slipway.events.list(storage.db, admin, { first: 100 });
    expect(again).toHaveLength(events.length);
  });

  it('two waiters for one resource (an expiry batch and a user release finishing together) end it once', async () => {
    const [a, b] = await releasing(2);
    if (!a || !b) throw new Error('seed');
    const log = new CountingLog();
    const completions = releaseCompletions({ db: storage.db, clock, events: log, ledger: slipway.ledger });
    await Promise.all([
      completions.end({ row: a, expired: false, actorId: null }),
      completions.end({ row: b, expired: true, actorId: null }),
      completions.end({ row: b, expired: false, actorId: 'alice' }),
    ]);
    const events = await slipway.events.list(storage.db, admin, { first: 100, resourceId: b.id });
    const ends = events.filter((e) => e.action === 'resource.expired' || e.action === 'resource.released');
    expect(ends.map((e) => e.action)).toEqual(['resource.expired']);
    const row = await storage.db
      .selectFrom('resources')
      .select('status')
      .where('id', '=', b.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('EXPIRED');
  });

  it('one bad release fails alone: its batch neighbours end on their own', async () => {
    const rows = await releasing(3);
    const log = new CountingLog();
    const completions = releaseCompletions({
      db: storage.db,
      clock,
      events: log,
      ledger: slipway.ledger,
    });
    const [a, b, c] = rows;
    if (!a || !b || !c) throw new Error('seed');
    const bad = { ...b, id: 'not-a-uuid' };
    const results = await Promise.allSettled(
      [a, bad, b, c].map((row) => completions.end({ row, expired: false, actorId: null })),
    );

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const statuses = await storage.db.selectFrom('resources').select('status').execute();
    expect(statuses.map((r) => r.status)).toEqual(['RELEASED', 'RELEASED', 'RELEASED']);
    const events = await slipway.events.list(storage.db, admin, { first: 100 });
    expect(events.filter((e) => e.action === 'resource.released')).toHaveLength(3);
  });
});

describe.each(engines)('EventLog.appendMany on %s', (engine) => {
  let storage: TestStorage;
  afterEach(async () => storage?.close());

  it('appends in the order given, with increasing seqs, after what was there', async () => {
    storage = await createTestStorage(engine);
    const slipway = await createSlipway({ database: storage, provisioners: [demoProvisioner()], rateLimits: {} });
    try {
      const log = new EventLog();
      const before = await log.append(storage.db, { type: 'system', action: 'first' });
      const seqs = await log.appendMany(storage.db, [
        { type: 'vm', action: 'a', ownerId: 'alice', data: { n: 1 } },
        { type: 'admin', action: 'b', severity: 'warning', actorId: 'admin' },
        { type: 'vm', action: 'c', ownerId: 'bob', resourceId: '0190a0a0-0000-7000-8000-000000000001' },
      ]);
      expect(seqs).toHaveLength(3);
      expect(seqs[0]).toBeGreaterThan(before);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      const listed = await log.list(storage.db, admin, { after: before });
      expect(
        listed.map((e) => [e.seq, e.action, e.type, e.severity, e.ownerId, e.actorId, e.resourceId, e.data]),
      ).toEqual([
        [seqs[0], 'a', 'vm', 'info', 'alice', null, null, { n: 1 }],
        [seqs[1], 'b', 'admin', 'warning', null, 'admin', null, {}],
        [seqs[2], 'c', 'vm', 'info', 'bob', null, '0190a0a0-0000-7000-8000-000000000001', {}],
      ]);
      expect(await log.appendMany(storage.db, [])).toEqual([]);
    } finally {
      await slipway.close();
    }
  });
});
