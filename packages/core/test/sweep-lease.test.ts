/**
 * One replica sweeps at a time, on the database's clock: the lease runs out after its length
 * of database time, whatever the replicas' own clocks say, so replicas whose clocks disagree
 * neither sweep at once nor wait for a lease that runs out only by a fast clock's reckoning.
 * Database time is made to pass by moving the lease's end back, as that much time would.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type Clock, createSlipway, type Slipway } from '../src/index.js';
import { createTestStorage, manualClock, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const HOUR = 3_600_000;

describe.each(engines)('sweep lease on %s', (engine) => {
  let storage: TestStorage;
  const apps: Slipway[] = [];
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
    await storage.close();
  });

  const replica = async (clock: Clock) => {
    // A 15 s lease (the least: 3 × 5 s, at least 15 s).
    const app = await createSlipway({ database: storage, clock, sweepIntervalMs: 5_000 });
    apps.push(app);
    return app;
  };
  /** `ms` of database time pass for the lease (the replicas' clocks do not move). */
  const dbTimePasses = (ms: number) =>
    sql`update sweep_leases set until = until - ${ms}::int8 * interval '1 millisecond'`.execute(storage.db);

  it('one replica sweeps at a time; another takes over once it stops or its lease runs out', async () => {
    storage = await createTestStorage(engine);
    const clock = manualClock(new Date());
    const [a, b, c] = [await replica(clock), await replica(clock), await replica(clock)];
    expect(await a.sweepAsLeader()).toBeDefined();
    expect(await b.sweepAsLeader()).toBeUndefined();
    expect(await c.sweepAsLeader()).toBeUndefined();
    expect(await a.sweepAsLeader()).toBeDefined(); // the holder renews
    // A holder that stops sweeping (it died): after its lease another one takes over.
    await dbTimePasses(10_000);
    expect(await b.sweepAsLeader()).toBeUndefined();
    await dbTimePasses(6_000);
    expect(await b.sweepAsLeader()).toBeDefined();
    expect(await a.sweepAsLeader()).toBeUndefined();
    // A clean shutdown gives the lease up at once.
    await b.close();
    expect(await c.sweepAsLeader()).toBeDefined();
  });

  it('replicas whose clocks are hours apart share one lease on the database clock', async () => {
    storage = await createTestStorage(engine);
    const fast = await replica(manualClock(new Date(Date.now() + HOUR)));
    const slow = await replica(manualClock(new Date(Date.now() - HOUR)));
    // The slow replica's lease is not over by the fast one's clock.
    expect(await slow.sweepAsLeader()).toBeDefined();
    expect(await fast.sweepAsLeader()).toBeUndefined();
    expect(await slow.sweepAsLeader()).toBeDefined();
    // The slow one dies: its lease ends 15 s of database time later, not an hour early.
    await dbTimePasses(16_000);
    expect(await fast.sweepAsLeader()).toBeDefined();
    expect(await slow.sweepAsLeader()).toBeUndefined();
    // The fast one dies: its lease ends 15 s later too, not an hour late.
    await dbTimePasses(16_000);
    expect(await slow.sweepAsLeader()).toBeDefined();
    expect(await fast.sweepAsLeader()).toBeUndefined();
  });
});
