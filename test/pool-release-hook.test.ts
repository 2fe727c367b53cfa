/**
 * The pool's release hook end to end through the core's durable job runner, against a real
 * HTTP server: retried with backoff while the deployer fails, the machine back to
 * `available` only after it succeeds, and a critical event when it gives up.
 */
import { createServer, type Server } from 'node:http';
import { type Actor, createSlipway, type Slipway } from '@slipway/core';
import { createTestStorage, type ManualClock, manualClock, type TestStorage } from '@slipway/core/testing';
import { poolAllocations, poolProvisioner } from '@slipway/provisioner-pool';
import { afterEach, describe, expect, it } from 'vitest';

const admin: Actor = { id: 'admin', role: 'admin' };
const user: Actor = { id: 'u', role: 'user' };

describe('pool release hook through the job runner', () => {
  let storage: TestStorage;
  let slipway: Slipway;
  let server: Server;
  let clock: ManualClock;
  const posts: unknown[] = [];

  afterEach(async () => {
    await slipway.close();
    await storage.close();
    await new Promise((r) => server.close(r));
    posts.length = 0;
  });

  /** A deployer that answers with `statuses` in turn (the last one repeats). */
  async function setup(statuses: number[]) {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        posts.push(JSON.parse(body));
        res.statusCode = statuses.length > 1 ? (statuses.shift() as number) : (statuses[0] as number);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    storage = await createTestStorage('pglite');
    clock = manualClock();
    slipway = await createSlipway({
      database: storage,
      clock,
      rateLimits: {},
      jobs: { backoff: { baseMs: 1_000, maxMs: 4_000 } },
      provisioners: [
        poolProvisioner({
          source: {
            kind: 'static',
            machines: [
              {
                id: 'm-1',
                name: 'one',
                host: '192.0.2.1',
                sshPort: 22,
                size: { vcpu: 2, memoryMb: 2048, diskGb: 20 },
                labels: {},
                status: 'available',
              },
            ],
          },
          releaseHook: { url: `http://127.0.0.1:${port}/admin/release-vm`, maxAttempts: 3 },
        }),
      ],
    });
    await slipway.accounts.grant(admin, { accountId: user.id, amount: 1000 });
  }

  const machine = async () =>
    (
      await poolAllocations(
        slipway.registry.get('pool').context(new AbortController().signal, { emit: () => {} }).store,
      )
    )[0];
  const spec = { vcpu: 1, memoryMb: 1024, diskGb: 10 };

  async function allocateAndRelease() {
    const r = await slipway.resources.create(user, { name: 'a', provisioner: 'pool', spec });
    expect((await slipway.resources.release(user, r.id)).status).toBe('RELEASED');
    return r;
  }

  it('retries a failing deployer with backoff; the machine returns only after it succeeds', async () => {
    await setup([500, 503, 200]);
    await allocateAndRelease();
    await slipway.runJobs();
    expect((await machine())?.status).toBe('cleaning');
    const job = await storage.db
      .selectFrom('jobs')
      .selectAll()
      .where('kind', 'like', 'provisioner:pool:%')
      .executeTakeFirstOrThrow();
    expect(job.last_error).toMatch(/50[03]/);
    for (let i = 0; i < 4 && (await machine())?.status !== 'available'; i += 1) {
      clock.advance(5_000);
      await slipway.runJobs();
    }
    expect((await machine())?.status).toBe('available');
    expect(posts).toHaveLength(3);
    expect(posts[0]).toMatchObject({ machineId: 'm-1' });
    // The machine can be handed out again.
    expect((await slipway.resources.create(user, { name: 'b', provisioner: 'pool', spec })).externalId).toBe('m-1');
  });

  it('gives up after its attempts with a critical event; the machine is not handed out', async () => {
    await setup([500]);
    await allocateAndRelease();
    for (let i = 0; i < 6; i += 1) {
      await slipway.runJobs();
      clock.advance(5_000);
    }
    expect(posts).toHaveLength(3);
    const events = await slipway.events.list(storage.db, admin, { type: 'system' });
    expect(events.find((e) => e.action === 'provisioner.job_failed')).toMatchObject({ severity: 'critical' });
    expect((await machine())?.status).toBe('cleaning');
    await expect(slipway.resources.create(user, { name: 'c', provisioner: 'pool', spec })).rejects.toMatchObject({
      code: 'CAPACITY_EXHAUSTED',
    });
  });
});
