/**
 * kill -9 of a real `slipway serve` between the provider's answer and Slipway's commit. The
 * server talks to the stateful provider fakes over loopback HTTP. Either the fake holds
 * DigitalOcean's 202 (the droplet exists, the reply never comes) while the test kills the
 * server, or the server kills itself after the provisioner answered (`allocate.before-commit`).
 * A second server takes the job over: it finds the machine by its tag or name instead of
 * building another, commits it and charges once. A release then leaves nothing behind.
 */
import { createSlipway, type Slipway } from '@slipway/core';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { mintToken } from '@slipway/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDigitalOceanFake } from '../../packages/provisioner-cloud/test/support/digitalocean-fake.js';
import {
  type FakeProviderServer,
  startFakeProviderServer,
} from '../../packages/provisioner-cloud/test/support/fake-provider-server.js';
import { RunpodFake } from '../../packages/provisioner-cloud/test/support/runpod-fake.js';
import { checkInvariants, quiesced } from '../support/invariants.js';
import { eventually, gql, type ServerProcess, startServer } from '../support/server-process.js';

const SECRET = 'cloud-crash-secret-0123456789-abcdefghij';
const CREATE = `mutation($input: CreateResourceInput!) { createResource(input: $input, wait: false) {
  __typename ... on MutationCreateResourceSuccess { data { id status } } ... on Error { code message } } }`;
const RELEASE = `mutation($id: ID!) { releaseResource(id: $id) {
  __typename ... on MutationReleaseResourceSuccess { data { id status } } ... on Error { code message } } }`;
const RESOURCE = 'query($id: ID!) { resource(id: $id) { id status ip cost } }';
const GRANT = 1_000;

/** One provider behind its fake: what the server needs, and what the fake holds. */
interface ProviderCase {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly server: FakeProviderServer;
  /** Machines built for the resource, and how many creates reached the provider. */
  machines(resourceId: string): number;
  creates(): number;
  readonly price: number;
  readonly input: Record<string, unknown>;
}

async function digitalOcean(): Promise<ProviderCase> {
  const fake = await createDigitalOceanFake();
  const server = await startFakeProviderServer(fake.handlers);
  return {
    name: 'digitalocean',
    env: { DIGITALOCEAN_TOKEN: fake.token, DIGITALOCEAN_API_URL: server.url },
    server,
    machines: (id) => fake.dropletsOf(id).length,
    creates: () => fake.count('POST', '/v2/droplets'),
    price: 16, // s-1vcpu-1gb: 8 credits an hour, two hours
    input: { provisioner: 'digitalocean', spec: { vcpu: 1, memoryMb: 1024, diskGb: 25 } },
  };
}

async function runpod(): Promise<ProviderCase> {
  const fake = new RunpodFake({ url: 'https://api.runpod.test/graphql' });
  const server = await startFakeProviderServer([fake.handler], { upstream: 'https://api.runpod.test' });
  return {
    name: 'runpod',
    env: { RUNPOD_API_KEY: fake.apiKey, RUNPOD_API_URL: `${server.url}/graphql` },
    server,
    machines: (id) => fake.pods.filter((p) => p.name === `slipway-${id}`).length,
    creates: () => fake.count('podFindAndDeployOnDemand'),
    price: 140, // one RTX 4090: 70 credits an hour, two hours
    input: {
      provisioner: 'runpod',
      kind: 'POD',
      spec: { vcpu: 4, memoryMb: 16384, diskGb: 20 },
      options: { gpuType: 'NVIDIA GeForce RTX 4090' },
    },
  };
}

const CASES = [
  { name: 'DigitalOcean, reply lost', make: digitalOcean, fault: undefined },
  { name: 'DigitalOcean, allocate.before-commit', make: digitalOcean, fault: 'allocate.before-commit' },
  { name: 'RunPod, allocate.before-commit', make: runpod, fault: 'allocate.before-commit' },
] as const;

describe.each(CASES)('kill -9 during a cloud create ($name)', ({ name, make, fault }) => {
  let storage: TestStorage;
  let core: Slipway;
  let provider: ProviderCase;
  let token: string;
  const servers: ServerProcess[] = [];
  const env = (killAt?: string): Record<string, string> => ({
    DATABASE_URL: storage.url as string,
    SLIPWAY_JWT_SECRET: SECRET,
    PROVISIONER_DEMO: 'false',
    SLIPWAY_JOB_LEASE_MS: '1500',
    SLIPWAY_SWEEP_INTERVAL_MS: '200',
    SLIPWAY_RATE_LIMIT_CREATES_PER_MINUTE: '0',
    ...provider.env,
    ...(killAt ? { SLIPWAY_FAULT_KILL_AT: killAt } : {}),
  });

  beforeAll(async () => {
    storage = await createTestStorage('postgres');
    core = await createSlipway({ database: storage });
    await core.accounts.grant({ id: 'admin', role: 'admin' }, { accountId: 'crasher', amount: GRANT });
    token = await mintToken({ secret: SECRET, userId: 'crasher', role: 'user', expiresIn: '1h' });
    provider = await make();
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await provider?.server.close();
    await core?.close();
    await storage?.close();
  });

  it('the survivor adopts the machine: one machine, one charge, none after release', { timeout: 120_000 }, async () => {
    const hold = fault
      ? undefined
      : provider.server.hold((r) => r.method === 'POST' && new URL(r.url).pathname === '/v2/droplets');
    const doomed = await startServer(env(fault));
    servers.push(doomed);
    const created = await gql<{ createResource: { data?: { id: string } } }>(doomed.url, token, CREATE, {
      input: { name: 'machine', ttlSeconds: 7200, requestId: `crash-${name}`, ...provider.input },
    });
    const id = created.data?.createResource.data?.id as string;
    expect(id, JSON.stringify(created)).toBeTruthy();
    if (hold) {
      await hold.arrived; // the machine exists at the provider; its reply is held
      doomed.proc.kill('SIGKILL');
      hold.release();
    }
    expect((await doomed.exited).signal).toBe('SIGKILL');
    expect(provider.machines(id)).toBe(1);

    const survivor = await startServer(env());
    servers.push(survivor);
    // Registered because its secret is set, and only that provider (demo mode is off).
    const listed = await gql<{ provisioners: { name: string }[] }>(
      survivor.url,
      token,
      '{ provisioners { name } }',
      {},
    );
    expect(listed.data?.provisioners.map((p) => p.name)).toEqual([provider.name]);
    await eventually(
      async () => {
        const r = await gql<{ resource: { status: string } }>(survivor.url, token, RESOURCE, { id });
        return r.data?.resource.status === 'RUNNING';
      },
      'the survivor to commit the machine',
      60_000,
    );
    const running = await gql<{ resource: { ip: string | null; cost: number } }>(survivor.url, token, RESOURCE, { id });
    expect(running.data?.resource.cost).toBe(provider.price);
    expect(running.data?.resource.ip).toBeTruthy();
    expect(provider.machines(id)).toBe(1);
    expect(provider.creates()).toBe(1);
    expect(await core.ledger.wallet(storage.db, 'crasher')).toMatchObject({ balance: GRANT - provider.price, held: 0 });

    await gql(survivor.url, token, RELEASE, { id });
    await eventually(async () => provider.machines(id) === 0, 'the machine to be deleted', 30_000);
    await eventually(() => quiesced(storage.db), 'every job to settle', 30_000);
    expect((await checkInvariants(storage.db)).problems).toEqual([]);
  });
});
