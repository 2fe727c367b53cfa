import type { LogEvent } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Actor, createSlipway, demoProvisioner, type Slipway } from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };

/** The runner's claim statement (job-claim.ts), as Kysely compiles it. */
const isClaim = (e: LogEvent) => /^with "expired" as \(select "id" from "jobs"/.test(e.query.sql);

describe.each(engines)('an idle job runner on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  afterEach(async () => {
    await slipway?.close();
    await storage?.close();
  });

  it('claims nothing when a request’s own job ends and nothing else is due', async () => {
    let claims = 0;
    storage = await createTestStorage(engine, { log: (e) => void (isClaim(e) && claims++) });
    // A poll far away: only wake-ups can claim during the test.
    slipway = await createSlipway({
      database: storage,
      provisioners: [demoProvisioner()],
      jobs: { pollMs: 600_000 },
      rateLimits: {},
    });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 1_000 });
    await slipway.start();
    await vi.waitFor(() => expect(claims).toBeGreaterThan(0)); // the first fill found the queue empty
    const before = claims;
    let last = '';
    for (let i = 0; i < 5; i++) {
      const r = await slipway.resources.create(alice, {
        name: `vm${i}`,
        provisioner: 'demo',
        spec: { vcpu: 1, memoryMb: 512, diskGb: 1 },
      });
      expect(r.status).toBe('RUNNING'); // run here, by the request (an adopted job)
      last = r.id;
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(claims - before).toBe(0);

    // New work still wakes it: a release is enqueued with a NOTIFY and run by the loop.
    await slipway.resources.release(alice, last, { wait: false });
    await vi.waitFor(async () => expect((await slipway.resources.get(alice, last)).status).toBe('RELEASED'));
    expect(claims - before).toBeGreaterThan(0);
  });
});
