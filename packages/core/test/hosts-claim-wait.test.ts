/**
 * A replica restarted right after a crash finds its host still held by its dead predecessor
 * (fresh heartbeat). With `claimWaitMs` it waits for that heartbeat to go stale and takes the
 * host over; a predecessor that keeps heartbeating still gets HOST_IN_USE after the wait.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSlipway, type Slipway } from '../src/index.js';
import { createTestStorage, type ManualClock, manualClock, type TestStorage } from '../src/testing/index.js';
import { boxProvisioner } from './support/host-provisioner.js';

describe('claiming a host held by another replica', () => {
  let storage: TestStorage;
  let clock: ManualClock;
  const replicas: Slipway[] = [];

  afterEach(async () => {
    for (const r of replicas.splice(0)) await r.close();
    await storage.close();
  });

  async function replica(claimWaitMs: number): Promise<Slipway> {
    const s = await createSlipway({
      database: storage,
      provisioners: [boxProvisioner({ name: 'h1', calls: [], machines: new Map() })],
      clock,
      hosts: { heartbeatMs: 100, staleAfterMs: 10_000, claimWaitMs },
    });
    replicas.push(s);
    return s;
  }

  it('waits for a crashed predecessor’s heartbeat to go stale, then takes the host', async () => {
    storage = await createTestStorage('pglite');
    clock = manualClock();
    const crashed = await replica(0);
    await crashed.hosts.register(); // then "dies": it never heartbeats again
    const successor = await replica(30_000);
    const registering = successor.hosts.register();
    let done = false;
    void registering.finally(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(done).toBe(false); // still waiting: the predecessor's heartbeat is fresh
    clock.advance(10_001);
    await expect(registering).resolves.toEqual(['h1']);
    const [row] = await successor.hosts.list({ id: 'admin', role: 'admin' });
    expect(row?.state).toBe('UP');
  });

  it('refuses with HOST_IN_USE when the holder keeps heartbeating past the wait', async () => {
    storage = await createTestStorage('pglite');
    clock = manualClock();
    const live = await replica(0);
    await live.hosts.register();
    const second = await replica(300);
    await expect(second.hosts.register()).rejects.toMatchObject({ code: 'HOST_IN_USE' });
  });
});
