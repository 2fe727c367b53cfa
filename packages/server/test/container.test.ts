import { type Clock, demoProvisioner, type Logger, type Provisioner, SlipwayError } from '@slipway/core';
import { createTestStorage } from '@slipway/core/testing';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { mintToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { createServerContainer, TOKENS } from '../src/container.js';
import { ERROR_FIELDS, TEST_SECRET } from './helpers.js';

/** A provisioner an embedding app brings: allocates fine, but its status call breaks. */
const flaky: Provisioner = {
  name: 'flaky',
  isDemo: true,
  allocate: async (req) => ({ resourceId: req.resourceId, externalId: `flaky-${req.resourceId}`, ip: '10.9.9.9' }),
  release: async () => {},
  status: async () => {
    throw new Error('status endpoint exploded');
  },
};

describe('composition root', () => {
  it('runs provisioners an embedder registers under TOKENS.Provisioner', async () => {
    const config = loadConfig({ SLIPWAY_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', PROVISIONER_DEMO: 'false' });
    const container = createServerContainer(config);
    container.register(TOKENS.Provisioner, { useValue: flaky });
    const storage = await createTestStorage('pglite');
    const app = await createApp(config, { container, database: storage });
    try {
      expect(container.resolve(TOKENS.Slipway)).toBe(app.slipway);
      const admin = await mintToken({ secret: TEST_SECRET, userId: 'admin', role: 'admin' });
      const gql = async (query: string, variables: Record<string, unknown> = {}) =>
        (await (
          await app.yoga.fetch('http://localhost/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
            body: JSON.stringify({ query, variables }),
          })
        ).json()) as { data?: Record<string, Record<string, unknown>>; errors?: unknown[] };

      expect((await gql('{ provisioners { name } }')).data).toEqual({ provisioners: [{ name: 'flaky' }] });
      await gql('mutation { grantCredits(input: { accountId: "admin", amount: 100 }) { __typename } }');
      const created = await gql(
        `mutation { createResource(input: { name: "f1", provisioner: "flaky", spec: { vcpu: 1, memoryMb: 512, diskGb: 0 } }) {
           ... on MutationCreateResourceSuccess { data { id ip status } } ${ERROR_FIELDS} } }`,
      );
      expect(created.data?.createResource).toMatchObject({ data: { ip: '10.9.9.9', status: 'RUNNING' } });
      const id = (created.data?.createResource as { data: { id: string } } | undefined)?.data.id;

      // The plugin's plain Error reaches the client as a typed PROVISIONER_FAILED, via core's wrapper.
      const refreshed = await gql(`mutation($id: ID!) { refreshResource(id: $id) { ${ERROR_FIELDS} } }`, { id });
      expect(refreshed.data?.refreshResource).toMatchObject({
        __typename: 'ProvisionerError',
        code: 'PROVISIONER_FAILED',
      });
    } finally {
      await app.close();
      await storage.close();
    }
  });

  it('registers the demo provisioner and the demo pool unless PROVISIONER_DEMO is off', () => {
    const on = createServerContainer(loadConfig({ SLIPWAY_JWT_SECRET: TEST_SECRET }));
    expect(on.resolveAll(TOKENS.Provisioner).map((p) => p.name)).toEqual(['demo', 'pool']);
    const off = createServerContainer(loadConfig({ SLIPWAY_JWT_SECRET: TEST_SECRET, PROVISIONER_DEMO: 'false' }));
    expect(off.isRegistered(TOKENS.Provisioner, true)).toBe(false);
  });

  it('hands the core the clock, logger, pricing, rate limits and policy registered by token', async () => {
    const config = loadConfig({ SLIPWAY_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', PROVISIONER_DEMO: 'false' });
    const container = createServerContainer(config, { provisioners: [demoProvisioner()] });
    const frozen = new Date('2031-05-06T07:08:09.000Z');
    const clock: Clock = { now: () => frozen };
    const lines: string[] = [];
    const logger: Logger = {
      debug: (message) => lines.push(message),
      info: (message) => lines.push(message),
      warn: (message) => lines.push(message),
      error: (message) => lines.push(message),
      child: () => logger,
    };
    container.register(TOKENS.Clock, { useValue: clock });
    container.register(TOKENS.Logger, { useValue: logger });
    container.register(TOKENS.Pricing, { useValue: { demo: 'compute' } });
    container.register(TOKENS.RateLimits, { useValue: { createResource: { limit: 1, windowMs: 60_000 } } });
    container.register(TOKENS.ResourcePolicy, { useValue: { maxMetadataBytes: 100 } });
    const storage = await createTestStorage('pglite');
    const app = await createApp(config, { container, database: storage, start: false });
    try {
      const admin = { id: 'ops', role: 'admin' } as const;
      const alice = { id: 'alice', role: 'user' } as const;
      await app.slipway.accounts.grant(admin, { accountId: 'alice', amount: 500 });
      const input = { name: 'c1', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } };
      // compute: vCPU × 10 + memory GB × 5 = 25 (standard would be 34).
      expect((await app.slipway.resources.quote(alice, input)).price).toBe(25);
      const vm = await app.slipway.resources.create(alice, input);
      expect(vm.createdAt).toEqual(frozen);
      expect(app.logger).toBe(logger);
      expect(lines.length).toBeGreaterThan(0);
      await expect(app.slipway.resources.updateMetadata(alice, vm.id, { note: 'x'.repeat(200) })).rejects.toThrow(
        /exceeds 100/,
      );
      const second = app.slipway.resources.create(alice, { ...input, name: 'c2' });
      await expect(second).rejects.toSatisfy((e) => e instanceof SlipwayError && e.code === 'RATE_LIMITED');
    } finally {
      await app.close();
      await storage.close();
    }
  });
});
