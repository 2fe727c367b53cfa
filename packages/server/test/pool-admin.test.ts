/**
 * The pool provisioner through the server: a user gets a whole machine (with its Cockpit
 * URL), admins see who holds what (`poolAllocations`) and refresh the pool, by GraphQL
 * (`refreshPool`) or by `POST /admin/pool-refresh` with the admin secret.
 */
import { demoProvisioner } from '@slipway/core';
import { createTestStorage, type TestStorage } from '@slipway/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { mintToken } from '../src/auth.js';
import { loadConfig } from '../src/config.js';
import { ERROR_FIELDS, type GqlResult, TEST_SECRET, VALIDATION_FIELDS } from './helpers.js';

const ADMIN_SECRET = 'pool-admin-secret-for-tests';

const machine = (id: string, vcpu: number, extra: Record<string, unknown> = {}) => ({
  id,
  name: `Machine ${id}`,
  host: `10.20.0.${vcpu}`,
  sshPort: 22,
  cockpitUrl: `https://${id}.example.net:9090/`,
  size: { vcpu, memoryMb: vcpu * 2048, diskGb: vcpu * 50 },
  ...extra,
});
const M1 = machine('m1', 2);
const M2 = machine('m2', 4);
const M3 = machine('m3', 8);
const M4 = machine('m4', 16);
const M5 = machine('m5', 32);

const SPEC = { vcpu: 2, memoryMb: 2048, diskGb: 20 };

interface PoolApp {
  app: App;
  storage: TestStorage;
  /** The environment the pool provisioner reads; change VM_POOL_JSON and refresh. */
  env: NodeJS.ProcessEnv;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GqlResult<T>>;
  post(path: string, authorization?: string, method?: string): Promise<Response>;
  close(): Promise<void>;
}

async function createPoolApp(opts: { adminSecret?: string; start?: boolean } = {}): Promise<PoolApp> {
  const env: NodeJS.ProcessEnv = { VM_POOL_JSON: JSON.stringify({ pool: [M1, M2, M3] }) };
  const config = loadConfig({
    SLIPWAY_JWT_SECRET: TEST_SECRET,
    SLIPWAY_DATA_DIR: '/nonexistent/never-used',
    LOG_LEVEL: 'silent',
    PROVISIONER_DEMO: 'false',
    SLIPWAY_RATE_LIMIT_CREATES_PER_MINUTE: '0',
    ...(opts.adminSecret ? { SLIPWAY_ADMIN_SECRET: opts.adminSecret } : {}),
  });
  const storage = await createTestStorage('pglite');
  // A provisioner without the pool capabilities, for the NOT_FOUND answers.
  const app = await createApp(config, {
    database: storage,
    env,
    provisioners: [demoProvisioner()],
    ...(opts.start === false ? { start: false } : {}),
  });
  return {
    app,
    storage,
    env,
    async gql(query, variables, token) {
      const res = await app.yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GqlResult<never>;
    },
    post: async (path, authorization, method = 'POST') =>
      app.yoga.fetch(`http://localhost${path}`, {
        method,
        headers: authorization === undefined ? {} : { authorization },
      }),
    async close() {
      await app.close();
      await storage.close();
    },
  };
}

const tokenFor = (userId: string, role: 'user' | 'admin' = 'user') => mintToken({ secret: TEST_SECRET, userId, role });

const ALLOCATION_FIELDS = `machineId machineName host sshPort cockpitUrl size { vcpu memoryMb diskGb } labels
  status maintenance removed resourceId ownerId requestId since cost resourceStatus`;
const ALLOCATIONS_QUERY = `query($provisioner: String) { poolAllocations(provisioner: $provisioner) { ${ALLOCATION_FIELDS} } }`;
const REFRESH_MUTATION = `mutation($provisioner: String) { refreshPool(provisioner: $provisioner) {
  ... on MutationRefreshPoolSuccess { data { prevPoolSize poolSize added removed stillAllocated } }
  ${ERROR_FIELDS} ${VALIDATION_FIELDS} ... on ValidationError { problems } } }`;
const CREATE_MUTATION = `mutation($input: CreateResourceInput!) { createResource(input: $input) {
  ... on MutationCreateResourceSuccess { data { id status externalId ip sshPort cockpitUrl cost requestId ownerId } }
  ${ERROR_FIELDS} } }`;

interface PoolAllocationOut {
  machineId: string;
  machineName: string;
  cockpitUrl: string | null;
  status: string;
  removed: boolean;
  resourceId: string | null;
  ownerId: string | null;
  since: string | null;
  [field: string]: unknown;
}
interface CreatedOut {
  createResource: { __typename: string; code?: string; data?: Record<string, unknown> & { id: string; cost: number } };
}

describe('pool administration through the server', () => {
  let t: PoolApp;
  let admin: string;
  let alice: string;
  let bob: string;
  let aliceResource: { id: string; cost: number };

  const allocations = async (): Promise<PoolAllocationOut[]> => {
    const res = await t.gql<{ poolAllocations: PoolAllocationOut[] }>(ALLOCATIONS_QUERY, {}, admin);
    expect(res.errors).toBeUndefined();
    return res.data?.poolAllocations ?? [];
  };
  const refresh = (provisioner?: string) =>
    t.gql<{ refreshPool: Record<string, unknown> }>(REFRESH_MUTATION, provisioner ? { provisioner } : {}, admin);
  const create = (token: string, name: string, requestId: string) =>
    t.gql<CreatedOut>(CREATE_MUTATION, { input: { name, provisioner: 'pool', spec: SPEC, requestId } }, token);
  const grant = async (accountId: string, amount: number) => {
    const res = await t.gql(
      'mutation($input: GrantCreditsInput!) { grantCredits(input: $input) { __typename } }',
      { input: { accountId, amount } },
      admin,
    );
    expect(res.data).toEqual({ grantCredits: { __typename: 'MutationGrantCreditsSuccess' } });
  };
  const adminEvents = () =>
    t.app.slipway.eventService.list({ id: 'admin', role: 'admin' }, { type: 'admin', first: 500 });

  beforeAll(async () => {
    t = await createPoolApp({ adminSecret: ADMIN_SECRET });
    admin = await tokenFor('admin', 'admin');
    alice = await tokenFor('alice');
    bob = await tokenFor('bob');
    await grant('alice', 1000);
    await grant('bob', 1000);
  });
  afterAll(() => t.close());

  it('hands a user a whole machine with its Cockpit URL', async () => {
    const quote = await t.gql<{ quote: { data: { price: number } } }>(
      `query($input: CreateResourceInput!) { quote(input: $input) { ... on QueryQuoteSuccess { data { price } } } }`,
      { input: { name: 'box', provisioner: 'pool', spec: SPEC } },
      alice,
    );
    const price = quote.data?.quote.data.price ?? -1;
    expect(price).toBeGreaterThan(0);

    const created = await create(alice, 'box', 'alice-box-1');
    expect(created.errors).toBeUndefined();
    expect(created.data?.createResource).toEqual({
      __typename: 'MutationCreateResourceSuccess',
      data: {
        id: expect.any(String),
        status: 'RUNNING',
        // The smallest machine that fits.
        externalId: 'm1',
        ip: M1.host,
        sshPort: 22,
        cockpitUrl: M1.cockpitUrl,
        cost: price,
        requestId: 'alice-box-1',
        ownerId: 'alice',
      },
    });
    aliceResource = created.data?.createResource.data ?? { id: '', cost: -1 };

    const one = await t.gql<{ resource: { cockpitUrl: string } }>(
      'query($id: ID!) { resource(id: $id) { cockpitUrl } }',
      { id: aliceResource.id },
      alice,
    );
    expect(one.data).toEqual({ resource: { cockpitUrl: M1.cockpitUrl } });
  });

  it('shows admins who holds which machine, at what cost and since when', async () => {
    const before = Date.now();
    const list = await allocations();
    expect(list.map((m) => [m.machineId, m.status])).toEqual([
      ['m1', 'ALLOCATED'],
      ['m2', 'AVAILABLE'],
      ['m3', 'AVAILABLE'],
    ]);
    expect(list[0]).toEqual({
      machineId: 'm1',
      machineName: 'Machine m1',
      host: M1.host,
      sshPort: 22,
      cockpitUrl: M1.cockpitUrl,
      size: M1.size,
      labels: {},
      status: 'ALLOCATED',
      maintenance: false,
      removed: false,
      resourceId: aliceResource.id,
      ownerId: 'alice',
      requestId: 'alice-box-1',
      since: expect.any(String),
      cost: aliceResource.cost,
      resourceStatus: 'RUNNING',
    });
    expect(Date.parse(list[0]?.since ?? '')).toBeLessThanOrEqual(before);
    expect(list[1]).toMatchObject({
      machineId: 'm2',
      cockpitUrl: M2.cockpitUrl,
      resourceId: null,
      ownerId: null,
      requestId: null,
      cost: null,
      resourceStatus: null,
    });
  });

  it('refuses the admin fields to users (FORBIDDEN) and to anonymous callers (UNAUTHENTICATED)', async () => {
    for (const query of [ALLOCATIONS_QUERY, REFRESH_MUTATION]) {
      const asUser = await t.gql(query, {}, alice);
      expect(asUser.data).toBeNull();
      expect(asUser.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      const anonymous = await t.gql(query, {});
      expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('answers CapacityExhaustedError when the pool is used up, releasing the hold', async () => {
    const first = await create(bob, 'b1', 'bob-1');
    const second = await create(bob, 'b2', 'bob-2');
    expect([first.data?.createResource.data?.externalId, second.data?.createResource.data?.externalId]).toEqual([
      'm2',
      'm3',
    ]);
    const spent = (first.data?.createResource.data?.cost ?? 0) + (second.data?.createResource.data?.cost ?? 0);

    const fourth = await create(bob, 'b3', 'bob-3');
    expect(fourth.errors).toBeUndefined();
    expect(fourth.data?.createResource).toMatchObject({
      __typename: 'CapacityExhaustedError',
      code: 'CAPACITY_EXHAUSTED',
      message: expect.stringContaining('pool exhausted'),
    });
    const me = await t.gql('{ me { balance held available } }', {}, bob);
    expect(me.data).toEqual({ me: { balance: 1000 - spent, held: 0, available: 1000 - spent } });

    // Give the machines back for the refresh tests.
    for (const r of [first, second]) {
      const released = await t.gql(
        'mutation($id: ID!) { releaseResource(id: $id) { ... on MutationReleaseResourceSuccess { data { status } } } }',
        { id: r.data?.createResource.data?.id },
        bob,
      );
      expect(released.data).toEqual({ releaseResource: { data: { status: 'RELEASED' } } });
    }
    expect((await allocations()).map((m) => m.status)).toEqual(['ALLOCATED', 'AVAILABLE', 'AVAILABLE']);
  });

  it('refreshPool swaps in the changed source and keeps a removed machine with its user', async () => {
    t.env.VM_POOL_JSON = JSON.stringify([M2, { ...M3, name: 'Renamed m3' }, M4]);
    const res = await refresh();
    expect(res.errors).toBeUndefined();
    expect(res.data?.refreshPool).toEqual({
      __typename: 'MutationRefreshPoolSuccess',
      data: { prevPoolSize: 3, poolSize: 3, added: ['m4'], removed: ['m1'], stillAllocated: ['m1'] },
    });

    const list = await allocations();
    expect(list.map((m) => [m.machineId, m.status, m.removed])).toEqual([
      ['m1', 'ALLOCATED', true],
      ['m2', 'AVAILABLE', false],
      ['m3', 'AVAILABLE', false],
      ['m4', 'AVAILABLE', false],
    ]);
    expect(list[0]).toMatchObject({ ownerId: 'alice', resourceId: aliceResource.id, cockpitUrl: M1.cockpitUrl });
    expect(list[2]?.machineName).toBe('Renamed m3');

    // The user still has the machine.
    const mine = await t.gql(
      'query($id: ID!) { resource(id: $id) { status externalId } }',
      { id: aliceResource.id },
      alice,
    );
    expect(mine.data).toEqual({ resource: { status: 'RUNNING', externalId: 'm1' } });

    const events = await adminEvents();
    const refreshed = events.filter((e) => e.action === 'pool.refreshed');
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]).toMatchObject({
      type: 'admin',
      actorId: 'admin',
      data: { provisioner: 'pool', via: 'graphql', added: ['m4'], removed: ['m1'], stillAllocated: ['m1'] },
    });
    expect(events.find((e) => e.action === 'pool.machine.removed_while_allocated')).toMatchObject({
      severity: 'warning',
      data: { machineId: 'm1' },
    });
  });

  it('refuses a bad pool as a whole, listing every problem, and keeps the pool', async () => {
    const before = await allocations();
    t.env.VM_POOL_JSON = JSON.stringify([
      M2,
      { ...M3, sshPort: 70000 },
      { ...M4, cockpitURL: 'https://typo/' },
      { ...M5, id: 'm2' },
    ]);
    const res = await refresh();
    expect(res.errors).toBeUndefined();
    const error = res.data?.refreshPool as { __typename: string; code: string; field: string; problems: string[] };
    expect(error).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', field: 'pool' });
    expect(error.problems).toEqual([
      expect.stringMatching(/^pool\[1\]\.sshPort: /),
      expect.stringMatching(/^pool\[2\]: .*cockpitURL/),
      'pool[3].id: duplicate id "m2" (also pool[0])',
    ]);
    expect(await allocations()).toEqual(before);

    const failed = (await adminEvents()).filter((e) => e.action === 'pool.refresh_failed');
    expect(failed.at(-1)).toMatchObject({
      severity: 'warning',
      actorId: 'admin',
      data: { code: 'VALIDATION_FAILED', problems: error.problems },
    });
  });

  it('answers NotFoundError for a provisioner that is missing or has no pool', async () => {
    for (const provisioner of ['nope', 'demo']) {
      const res = await refresh(provisioner);
      expect(res.data?.refreshPool).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      const list = await t.gql(ALLOCATIONS_QUERY, { provisioner }, admin);
      expect(list.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    }
  });

  describe('POST /admin/pool-refresh', () => {
    it('refuses a missing or wrong secret with 401', async () => {
      for (const authorization of [
        undefined,
        `Bearer ${ADMIN_SECRET}x`,
        'Bearer short',
        ADMIN_SECRET,
        `Bearer ${admin}`,
      ]) {
        const res = await t.post('/admin/pool-refresh', authorization);
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
      }
      const get = await t.post('/admin/pool-refresh', `Bearer ${ADMIN_SECRET}`, 'GET');
      expect(get.status).toBe(405);
    });

    it('refreshes with the right secret', async () => {
      t.env.VM_POOL_JSON = JSON.stringify([M2, M3, M4, M5]);
      const res = await t.post('/admin/pool-refresh', `Bearer ${ADMIN_SECRET}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({
        prevPoolSize: 3,
        poolSize: 4,
        added: ['m5'],
        removed: [],
        stillAllocated: ['m1'],
      });
      const refreshed = (await adminEvents()).filter((e) => e.action === 'pool.refreshed').at(-1);
      expect(refreshed).toMatchObject({ actorId: null, data: { via: 'http', added: ['m5'] } });
    });

    it('answers 422 with every problem for a bad pool, and keeps the pool', async () => {
      const before = await allocations();
      t.env.VM_POOL_JSON = '{"pool": [';
      const res = await t.post('/admin/pool-refresh?provisioner=pool', `Bearer ${ADMIN_SECRET}`);
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual({
        error: {
          code: 'VALIDATION_FAILED',
          message: expect.stringContaining('invalid pool'),
          problems: [expect.stringMatching(/^pool: not valid JSON/)],
        },
      });
      expect(await allocations()).toEqual(before);
    });

    it('answers 404 for a provisioner without a pool', async () => {
      const res = await t.post('/admin/pool-refresh?provisioner=demo', `Bearer ${ADMIN_SECRET}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    });
  });

  it('drops a removed machine once its user releases it', async () => {
    const released = await t.gql(
      'mutation($id: ID!) { releaseResource(id: $id) { ... on MutationReleaseResourceSuccess { data { status } } } }',
      { id: aliceResource.id },
      alice,
    );
    expect(released.data).toEqual({ releaseResource: { data: { status: 'RELEASED' } } });
    expect((await allocations()).map((m) => m.machineId)).toEqual(['m2', 'm3', 'm4', 'm5']);
  });
});

describe('POST /admin/pool-refresh without SLIPWAY_ADMIN_SECRET', () => {
  let t: PoolApp;
  beforeAll(async () => {
    t = await createPoolApp({ start: false });
  });
  afterAll(() => t.close());

  it('is disabled (404), whatever the caller sends', async () => {
    for (const authorization of [undefined, 'Bearer ', 'Bearer anything-at-all-long-enough']) {
      const res = await t.post('/admin/pool-refresh', authorization);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        error: { code: 'NOT_FOUND', message: expect.stringContaining('SLIPWAY_ADMIN_SECRET') },
      });
    }
    // The GraphQL mutation does not depend on the secret.
    const admin = await tokenFor('admin', 'admin');
    const res = await t.gql(REFRESH_MUTATION, {}, admin);
    expect(res.data?.refreshPool).toMatchObject({ __typename: 'MutationRefreshPoolSuccess' });
  });
});
