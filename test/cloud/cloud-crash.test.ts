/**
 * kill -9 of a real `slipway serve` between DigitalOcean's 202 and Slipway's commit. The
 * server talks to the stateful DigitalOcean fake over loopback HTTP; the fake holds the
 * create's reply (the droplet exists, the reply never comes) while the test kills the
 * server, or the server kills itself after the provisioner answered (`allocate.before-commit`).
 * A second server takes the job over: it finds the droplet by its tag instead of building
 * another, commits it, and charges once. Then a release leaves no droplet behind.
 */
import { createSlipway, type Slipway } from '@slipway/core';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { mintToken } from '@slipway/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDigitalOceanFake,
  type DigitalOceanFake,
} from '../../packages/provisioner-cloud/test/support/digitalocean-fake.js';
import {
  type FakeProviderServer,
  startFakeProviderServer,
} from '../../packages/provisioner-cloud/test/support/fake-provider-server.js';
import { checkInvariants, quiesced } from '../support/invariants.js';
import { eventually, gql, type ServerProcess, startServer } from '../support/server-process.js';

const SECRET = 'cloud-crash-secret-0123456789-abcdefghij';
const CREATE = `mutation($input: CreateResourceInput!) { createResource(input: $input, wait: false) {
  __typename ... on MutationCreateResourceSuccess { data { id status } } ... on Error { code message } } }`;
const RELEASE = `mutation($id: ID!) { releaseResource(id: $id) {
  __typename ... on MutationReleaseResourceSuccess { data { id status } } ... on Error { code message } } }`;
const RESOURCE = 'query($id: ID!) { resource(id: $id) { id status ip cost } }';
// s-1vcpu-1gb at 8 credits an hour, for two hours.
const input = (requestId: string) => ({
  name: 'droplet',
  provisioner: 'digitalocean',
  spec: { vcpu: 1, memoryMb: 1024, diskGb: 25 },
  ttlSeconds: 7200,
  requestId,
});

describe.each(['reply lost', 'allocate.before-commit'] as const)(
  'kill -9 during a DigitalOcean create (%s)',
  (mode) => {
    let storage: TestStorage;
    let core: Slipway;
    let fake: DigitalOceanFake;
    let provider: FakeProviderServer;
    let token: string;
    const servers: ServerProcess[] = [];
    const env = (fault?: string): Record<string, string> => ({
      DATABASE_URL: storage.url as string,
      SLIPWAY_JWT_SECRET: SECRET,
      PROVISIONER_DEMO: 'false',
      DIGITALOCEAN_TOKEN: fake.token,
      DIGITALOCEAN_API_URL: provider.url,
      SLIPWAY_JOB_LEASE_MS: '1500',
      SLIPWAY_SWEEP_INTERVAL_MS: '200',
      SLIPWAY_RATE_LIMIT_CREATES_PER_MINUTE: '0',
      ...(fault ? { SLIPWAY_FAULT_KILL_AT: fault } : {}),
    });

    beforeAll(async () => {
      storage = await createTestStorage('postgres');
      core = await createSlipway({ database: storage });
      await core.accounts.grant({ id: 'admin', role: 'admin' }, { accountId: 'crasher', amount: 100 });
      token = await mintToken({ secret: SECRET, userId: 'crasher', role: 'user', expiresIn: '1h' });
      fake = await createDigitalOceanFake();
      provider = await startFakeProviderServer(fake.handlers);
    });
    afterAll(async () => {
      for (const s of servers) await s.stop();
      await provider?.close();
      await core?.close();
      await storage?.close();
    });

    it('the survivor adopts the droplet: one droplet, one charge, then none after release', {
      timeout: 120_000,
    }, async () => {
      const hold =
        mode === 'reply lost' ? provider.hold((r) => r.method === 'POST' && r.url.endsWith('/v2/droplets')) : undefined;
      const doomed = await startServer(env(mode === 'reply lost' ? undefined : mode));
      servers.push(doomed);
      const created = await gql<{ createResource: { data?: { id: string } } }>(doomed.url, token, CREATE, {
        input: input(`crash-${mode}`),
      });
      const id = created.data?.createResource.data?.id as string;
      expect(id).toBeTruthy();
      if (hold) {
        await hold.arrived; // the droplet is stored at DigitalOcean; its 202 is held
        doomed.proc.kill('SIGKILL');
        hold.release();
      }
      expect((await doomed.exited).signal).toBe('SIGKILL');
      expect(fake.dropletsOf(id)).toHaveLength(1);

      const survivor = await startServer(env());
      servers.push(survivor);
      await eventually(
        async () => {
          const r = await gql<{ resource: { status: string } }>(survivor.url, token, RESOURCE, { id });
          return r.data?.resource.status === 'RUNNING';
        },
        'the survivor to commit the droplet',
        60_000,
      );
      const running = await gql<{ resource: { ip: string; cost: number } }>(survivor.url, token, RESOURCE, { id });
      expect(running.data?.resource).toMatchObject({ cost: 16 });
      expect(fake.dropletsOf(id)).toHaveLength(1);
      expect(running.data?.resource.ip).toBe(
        fake.dropletsOf(id)[0]?.networks.v4?.find((n) => n.type === 'public')?.ip_address,
      );
      expect(fake.count('POST', '/v2/droplets')).toBe(1);
      expect(await core.ledger.wallet(storage.db, 'crasher')).toMatchObject({ balance: 84, held: 0 });

      await gql(survivor.url, token, RELEASE, { id });
      await eventually(async () => fake.dropletsOf(id).length === 0, 'the droplet to be deleted', 30_000);
      await eventually(() => quiesced(storage.db), 'every job to settle', 30_000);
      expect((await checkInvariants(storage.db)).problems).toEqual([]);
      expect(fake.violations).toEqual([]);
    });
  },
);
