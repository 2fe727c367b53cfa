import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, createSlipway, demoProvisioner, releaseLagSamples, type Slipway } from '../src/index.js';
import { createTestStorage, manualClock, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = (over: Record<string, unknown> = {}) => ({
  name: 'vm',
  provisioner: 'demo',
  spec: { vcpu: 1, memoryMb: 512, diskGb: 1 },
  ...over,
});

describe.each(engines)('release lag samples on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  afterEach(async () => {
    await slipway?.close();
    await storage?.close();
  });

  it('expiry lag: from expiresAt to EXPIRED, newest first, admins only', async () => {
    storage = await createTestStorage(engine);
    const clock = manualClock();
    slipway = await createSlipway({ database: storage, provisioners: [demoProvisioner()], clock, rateLimits: {} });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 1000 });
    const early = await slipway.resources.create(alice, input({ ttlSeconds: 60 }));
    const late = await slipway.resources.create(alice, input({ ttlSeconds: 120 }));
    const released = await slipway.resources.create(alice, input({ ttlSeconds: 600 }));
    await slipway.resources.release(alice, released.id);
    clock.advance(61_500); // `early` is 1.5 s overdue when the sweeper sees it
    await slipway.sweep();
    await slipway.runJobs();
    clock.advance(62_000); // `late` is 3.5 s overdue
    await slipway.sweep();
    await slipway.runJobs();

    const samples = await releaseLagSamples(storage.db, admin, { kind: 'expiry', first: 10 });
    expect(samples.map((s) => [s.resourceId, s.seconds])).toEqual([
      [late.id, 3.5],
      [early.id, 1.5],
    ]);
    expect(samples[0]).toMatchObject({ provisioner: 'demo', at: clock.now() });
    expect(await releaseLagSamples(storage.db, admin, { kind: 'expiry', first: 1 })).toHaveLength(1);
    const since = new Date(clock.now().getTime() - 1_000);
    expect(await releaseLagSamples(storage.db, admin, { kind: 'expiry', first: 10, since })).toHaveLength(1);
    await expect(releaseLagSamples(storage.db, alice, { kind: 'expiry', first: 10 })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(releaseLagSamples(storage.db, admin, { kind: 'expiry', first: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'first' },
    });
  });

  it('deletion lag: from the release request to RELEASED', async () => {
    storage = await createTestStorage(engine);
    slipway = await createSlipway({
      database: storage,
      provisioners: [demoProvisioner({ releaseDelayMs: 200 })],
      rateLimits: {},
    });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 1000 });
    const r = await slipway.resources.create(alice, input());
    await slipway.resources.release(alice, r.id);
    const samples = await releaseLagSamples(storage.db, admin, { kind: 'deletion', first: 10 });
    expect(samples).toHaveLength(1);
    expect(samples[0]?.resourceId).toBe(r.id);
    // The provisioner took 200 ms to release; the sample covers at least that.
    expect(samples[0]?.seconds).toBeGreaterThanOrEqual(0.2);
  });
});
