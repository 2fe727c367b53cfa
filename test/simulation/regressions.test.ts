/**
 * Regressions for two core bugs the deterministic simulation found (both fixed):
 *   1. a machine that failed at the provider after it ran was never released there
 *      (refresh marked it FAILED, release skipped the provider);
 *   2. a release that ran out of attempts left the resource RELEASING forever and the
 *      machine leaked, even after the provider recovered.
 * Invariant: the provider never holds a machine for a resource that is FAILED/RELEASED/
 * EXPIRED once the system is quiesced (issue 3).
 */

import {
  type Actor,
  type AllocationStatusState,
  createSlipway,
  type Provisioner,
  type Slipway,
  SlipwayError,
} from '@slipway/core';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from './simulator.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = { name: 'vm', provisioner: 'fragile', spec: { vcpu: 1, memoryMb: 512, diskGb: 0 } }; // 15 credits

/** The smallest honest provider: one machine per resourceId; release can be made to fail for a while. */
function fragileCloud() {
  const machines = new Map<string, { state: AllocationStatusState }>();
  let failingReleases = 0;
  const provisioner: Provisioner = {
    name: 'fragile',
    isDemo: true,
    async allocate(req) {
      if (!machines.has(req.resourceId)) machines.set(req.resourceId, { state: 'running' });
      return { resourceId: req.resourceId, externalId: `m-${req.requestId}`, state: 'running' };
    },
    async release(allocation) {
      if (failingReleases > 0) {
        failingReleases -= 1;
        throw new SlipwayError('PROVISIONER_FAILED', 'HTTP 503 from the cloud API', { details: { retryable: true } });
      }
      machines.delete(allocation.resourceId);
    },
    async status(allocation) {
      const m = machines.get(allocation.resourceId);
      return m ? { state: m.state } : { state: 'gone' };
    },
  };
  return {
    provisioner,
    machines,
    outage(releases: number) {
      failingReleases = releases;
    },
    get failingReleases() {
      return failingReleases;
    },
  };
}

describe('regressions found by the simulation', () => {
  let storage: TestStorage | undefined;
  let slipway: Slipway | undefined;
  afterEach(async () => {
    await slipway?.close();
    await storage?.close();
    slipway = undefined;
    storage = undefined;
  });

  async function setup() {
    storage = await createTestStorage('pglite');
    const clock = new FakeClock();
    const cloud = fragileCloud();
    const sw = await createSlipway({
      database: storage,
      provisioners: [cloud.provisioner],
      clock,
      policy: { wait: false },
      rateLimits: {},
      jobs: { random: () => 0.5 },
    });
    slipway = sw;
    await sw.accounts.grant(admin, { accountId: alice.id, amount: 100 });
    /** Run jobs and sweeps with the clock moving an hour at a time, as a long-idle system would. */
    const settle = async (rounds = 6) => {
      for (let i = 0; i < rounds; i++) {
        clock.advance(3_600_000);
        await sw.runJobs();
        await sw.sweep();
        await sw.runJobs();
      }
    };
    const running = async () => {
      const created = await sw.resources.create(alice, input);
      await sw.runJobs();
      const r = await sw.resources.get(alice, created.id);
      expect(r.status).toBe('RUNNING');
      return r;
    };
    return { sw, clock, cloud, settle, running };
  }

  /*
   * BUG 1 — a machine that FAILED at the provider is never released.
   *   packages/core/src/resources/resource-service.ts, refresh() (the `next` status mapping,
   *     line ~280 at commit 4a8a225): provider state 'failed' → resource FAILED, but no cleanup
   *     job is enqueued;
   *   then release() (line ~215, "A failed allocation holds no machine (its cleanup job sees
   *     to that): nothing to call") moves FAILED → RELEASED without calling the provisioner.
   *   A machine in state 'failed' still exists at the provider ('gone' is the state for "no
   *   longer exists"), so it leaks — and keeps costing money on a real cloud.
   * Related: the resource ends FAILED with its hold *committed* (it was charged while it ran),
   * which contradicts the invariant in resource-workflows.ts's header ("FAILED ⇔ hold released
   * (or committed when the policy does not refund failures)") under the default refund policy.
   */
  async function failedMachineScenario() {
    const { sw, cloud, settle, running } = await setup();
    const r = await running();
    const machine = cloud.machines.get(r.id);
    if (machine) machine.state = 'failed'; // the VM crashed at the provider; it still exists there
    const refreshed = await sw.resources.refresh(alice, r.id);
    const released = await sw.resources.release(alice, r.id);
    await settle();
    return { refreshed, released, final: await sw.resources.get(alice, r.id), cloud, id: r.id };
  }

  it('a machine that failed at the provider after it ran is released there (bug 1)', async () => {
    const s = await failedMachineScenario();
    expect(s.refreshed.status).toBe('FAILED');
    expect(s.released.status).toBe('RELEASING'); // it has a machine: the provider is called
    expect(s.final.status).toBe('RELEASED');
    expect(s.cloud.machines.has(s.id), 'the failed machine is still held at the provider (leaked)').toBe(false);
  });

  /*
   * BUG 2 — a release that outlives its attempts leaves the resource RELEASING forever and
   * the machine leaked, even after the provider recovers.
   *   packages/core/src/resources/resource-workflows.ts, #releaseGaveUp (line ~220, onDead of
   *     resource.release): only records `error` and a critical event; the resource stays
   *     RELEASING (docs/reliability.md documents this);
   *   resource-service.ts release() (line ~206): RELEASING answers "as it is" and enqueues
   *     nothing, so the owner cannot retry;
   *   sweep() reconciles only pending holds and RUNNING/STOPPED past expiresAt — nothing
   *     picks up a RELEASING resource without an active release job.
   *   With the default backoff (1 s doubling, 10 attempts) a provider outage of ~9 minutes
   *   is enough. The same holds for a dead resource.cleanup job after a failed allocation
   *   (its machine, if any, is never removed).
   */
  async function outageScenario() {
    const { sw, clock, cloud, settle, running } = await setup();
    const r = await running();
    cloud.outage(10); // DEFAULT_RESOURCE_POLICY.releaseAttempts
    const releasing = await sw.resources.release(alice, r.id);
    for (let i = 0; i < 20; i++) {
      clock.advance(600_000); // past any backoff
      await sw.runJobs();
    }
    const job = await sw.storage.db
      .selectFrom('jobs')
      .select(['state', 'attempts'])
      .where('kind', '=', 'resource.release')
      .executeTakeFirstOrThrow();
    const again = await sw.resources.release(alice, r.id); // the owner tries again
    await settle();
    const alerts = (await sw.events.list(sw.storage.db, admin, { resourceId: r.id }))
      .filter((e) => e.severity === 'critical')
      .map((e) => e.action);
    return { releasing, job, again, final: await sw.resources.get(alice, r.id), cloud, id: r.id, alerts };
  }

  it('a release outlasting its alert threshold keeps retrying and lands after the outage (bug 2)', async () => {
    const s = await outageScenario();
    expect(s.releasing.status).toBe('RELEASING');
    expect(s.cloud.failingReleases).toBe(0); // the outage is over
    expect(s.final.status, 'stuck in RELEASING with nothing left to retry it').toBe('RELEASED');
    expect(s.cloud.machines.has(s.id), 'the machine is still held at the provider (leaked)').toBe(false);
    expect(s.alerts).toEqual(['resource.release_failing']); // one critical alert, at the threshold
  });
});
