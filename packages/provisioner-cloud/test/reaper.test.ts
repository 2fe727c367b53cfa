/**
 * The core's orphan reaper with the real cloud provisioners against their stateful fakes:
 * a machine planted at the provider with Slipway's tag (or name) and no resource behind it
 * is released once the grace period has passed, never before, with a warning event and a
 * counter; a resource whose machine vanished at the provider becomes GONE with an event and
 * keeps its one charge; a live resource's machine is never touched.
 */
import { randomUUID } from 'node:crypto';
import { type Actor, createSlipway, type Provisioner, type Slipway } from '@slipway/core';
import { createTestStorage, type ManualClock, manualClock, type TestStorage } from '@slipway/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digitalOceanProvisioner, runpodProvisioner } from '../src/index.js';
import { testConfig as doConfig } from './digitalocean/helpers.js';
import { testConfig as rpConfig } from './runpod/helpers.js';
import { createDigitalOceanFake } from './support/digitalocean-fake.js';
import { fetchThrough } from './support/fake-provider-server.js';
import { RunpodFake } from './support/runpod-fake.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const GRACE = 600_000;

/** A provider behind its fake, with what the test plants and removes there by hand. */
interface Cloud {
  readonly provisioner: Provisioner;
  readonly input: Record<string, unknown>;
  machines(resourceId: string): number;
  /** Build a machine at the provider as Slipway would have, for a resource that does not exist. */
  plant(resourceId: string): void;
  /** Remove a resource's machine behind Slipway's back. */
  vanish(resourceId: string): void;
}

async function digitalOcean(): Promise<Cloud> {
  const fake = await createDigitalOceanFake();
  return {
    provisioner: digitalOceanProvisioner(doConfig(fake), { fetch: fake.fetch }),
    input: { provisioner: 'digitalocean', spec: { vcpu: 1, memoryMb: 1024, diskGb: 25 } },
    machines: (id) => fake.dropletsOf(id).length,
    plant: (id) =>
      void fake.store.create({
        name: `slipway-${id}`,
        size: 's-1vcpu-1gb',
        image: 'ubuntu-24-04-x64',
        region: 'nyc3',
        tags: ['slipway', `slipway-resource:${id}`],
      }),
    vanish: (id) => {
      for (const d of fake.dropletsOf(id)) fake.droplets.delete(d.id);
    },
  };
}

async function runpod(): Promise<Cloud> {
  const fake = new RunpodFake();
  const pods = () => fake.pods;
  return {
    provisioner: runpodProvisioner(rpConfig(fake), { fetch: fetchThrough([fake.handler]) }),
    input: {
      provisioner: 'runpod',
      kind: 'pod',
      spec: { vcpu: 4, memoryMb: 16384, diskGb: 20 },
      options: { gpuType: 'NVIDIA GeForce RTX 4090' },
    },
    machines: (id) => pods().filter((p) => p.name === `slipway-${id}`).length,
    plant: (id) =>
      void fake.store.create(
        {
          name: `slipway-${id}`,
          imageName: 'runpod/base:0.6.2',
          gpuTypeId: 'NVIDIA GeForce RTX 4090',
          env: [{ key: 'SLIPWAY_RESOURCE_ID', value: id }],
          ports: '22/tcp',
        },
        null,
      ),
    vanish: (id) => {
      for (const p of pods()) if (p.name === `slipway-${id}`) fake.store.pods.delete(p.id);
    },
  };
}

describe.each([
  ['DigitalOcean', digitalOcean],
  ['RunPod', runpod],
] as const)('the orphan reaper with %s', (_name, make) => {
  let storage: TestStorage;
  let clock: ManualClock;
  let cloud: Cloud;
  let slipway: Slipway;
  beforeEach(async () => {
    storage = await createTestStorage('pglite');
    clock = manualClock(new Date());
    cloud = await make();
    slipway = await createSlipway({
      database: storage,
      provisioners: [cloud.provisioner],
      clock,
      rateLimits: {},
      reaper: { intervalMs: 60_000, graceMs: GRACE },
      sweepIntervalMs: 3_600_000, // swept by hand
    });
    await slipway.accounts.grant(admin, { accountId: 'alice', amount: 10_000 });
  });
  afterEach(async () => {
    await slipway.close();
    await storage.close();
  });

  async function running(name: string): Promise<string> {
    const r = await slipway.resources.create(alice, { name, ttlSeconds: 7200, ...cloud.input } as never, {
      wait: false,
    });
    for (let i = 0; i < 50 && (await slipway.resources.get(alice, r.id)).status === 'PROVISIONING'; i++) {
      await slipway.runJobs();
    }
    expect((await slipway.resources.get(alice, r.id)).status).toBe('RUNNING');
    return r.id;
  }

  async function sweep(): Promise<void> {
    await slipway.sweep();
    await slipway.runJobs();
  }

  it('releases a planted machine after the grace period, marks a vanished one GONE, keeps the live one', async () => {
    const live = await running('live');
    const vanished = await running('vanished');
    const orphan = randomUUID();
    cloud.plant(orphan);
    cloud.vanish(vanished);
    const balance = (await slipway.accounts.me(alice)).wallet.balance;
    clock.advance(1_000); // the reaper judges only resources unchanged since before its listing

    await sweep();
    expect(cloud.machines(orphan)).toBe(1); // within the grace period
    expect((await slipway.resources.get(alice, vanished)).status).toBe('GONE');
    expect((await slipway.resources.get(alice, live)).status).toBe('RUNNING');

    clock.advance(GRACE + 61_000);
    await sweep();
    expect(cloud.machines(orphan)).toBe(0);
    expect(cloud.machines(live)).toBe(1);
    expect((await slipway.resources.get(alice, live)).status).toBe('RUNNING');

    const events = await slipway.eventService.list(admin, { first: 500 });
    expect(events.filter((e) => e.action === 'provisioner.orphan_released')).toHaveLength(1);
    expect(events.filter((e) => e.action === 'resource.gone' && e.resourceId === vanished)).toHaveLength(1);
    const [last] = (await slipway.reaper.lastSweeps(admin)).filter((s) => s.provisioner === cloud.provisioner.name);
    expect(last).toMatchObject({ released: 1, error: null });
    // GONE keeps its one charge and moves no credit.
    expect((await slipway.accounts.me(alice)).wallet).toMatchObject({ balance, held: 0 });
    const audit = await slipway.ledger.audit(storage.db, 'alice');
    expect(audit.ledgerSum).toBe(audit.balance);
    expect(audit.pendingSum).toBe(audit.held);
  });
});
