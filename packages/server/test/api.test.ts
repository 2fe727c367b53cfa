import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, ERROR_FIELDS, RESOURCE_FIELDS, SPEC, type TestApp } from './helpers.js';

describe('GraphQL API end to end', () => {
  let t: TestApp;
  let admin: string;
  let alice: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.tokenFor('admin', 'admin');
    alice = await t.tokenFor('alice');
  });
  afterAll(() => t.close());

  it('grant → quote → create → list → release, charging exactly the quote', async () => {
    const grant = await t.gql(
      `mutation($input: GrantCreditsInput!) { grantCredits(input: $input) {
         ... on MutationGrantCreditsSuccess { data { id balance available } } ${ERROR_FIELDS} } }`,
      { input: { accountId: 'alice', amount: 100, note: 'welcome' } },
      admin,
    );
    expect(grant.errors).toBeUndefined();
    expect(grant.data).toEqual({
      grantCredits: { __typename: 'MutationGrantCreditsSuccess', data: { id: 'alice', balance: 100, available: 100 } },
    });

    const input = { name: 'box-1', provisioner: 'demo', spec: SPEC };
    const quote = await t.gql(
      `query($input: CreateResourceInput!) { quote(input: $input) {
         ... on QueryQuoteSuccess { data { provisioner price available admitted } } ${ERROR_FIELDS} } }`,
      { input },
      alice,
    );
    expect(quote.data).toEqual({
      quote: {
        __typename: 'QueryQuoteSuccess',
        data: { provisioner: 'demo', price: 34, available: 100, admitted: true },
      },
    });

    const created = await t.gql(
      `mutation($input: CreateResourceInput!) { createResource(input: $input) {
         ... on MutationCreateResourceSuccess { data { ${RESOURCE_FIELDS} } } ${ERROR_FIELDS} } }`,
      { input: { ...input, metadata: { team: 'a' }, labels: { env: 'dev' } } },
      alice,
    );
    expect(created.errors).toBeUndefined();
    const resource = (created.data as { createResource: { data: Record<string, unknown> } }).createResource.data;
    expect(resource).toMatchObject({
      name: 'box-1',
      kind: 'VM',
      provisioner: 'demo',
      status: 'RUNNING',
      cost: 34,
      ownerId: 'alice',
      metadata: { team: 'a' },
      labels: { env: 'dev' },
      spec: SPEC,
    });
    expect(resource.ip).toMatch(/^10\.0\./);

    const me = await t.gql('{ me { id role balance held available } }', {}, alice);
    expect(me.data).toEqual({ me: { id: 'alice', role: 'USER', balance: 66, held: 0, available: 66 } });

    const list = await t.gql(
      `{ resources { edges { cursor node { id status } } pageInfo { hasNextPage endCursor } } }`,
      {},
      alice,
    );
    expect(list.data).toEqual({
      resources: {
        edges: [{ cursor: expect.any(String), node: { id: resource.id, status: 'RUNNING' } }],
        pageInfo: { hasNextPage: false, endCursor: expect.any(String) },
      },
    });

    const patched = await t.gql(
      `mutation($id: ID!) { updateResourceMetadata(id: $id, patch: { team: null, owner: "ops" }) {
         ... on MutationUpdateResourceMetadataSuccess { data { metadata } } ${ERROR_FIELDS} } }`,
      { id: resource.id },
      alice,
    );
    expect(patched.data).toEqual({
      updateResourceMetadata: {
        __typename: 'MutationUpdateResourceMetadataSuccess',
        data: { metadata: { owner: 'ops' } },
      },
    });

    const refreshed = await t.gql(
      `mutation($id: ID!) { refreshResource(id: $id) { ... on MutationRefreshResourceSuccess { data { status } } ${ERROR_FIELDS} } }`,
      { id: resource.id },
      alice,
    );
    expect(refreshed.data).toEqual({
      refreshResource: { __typename: 'MutationRefreshResourceSuccess', data: { status: 'RUNNING' } },
    });

    const released = await t.gql(
      `mutation($id: ID!) { releaseResource(id: $id) {
         ... on MutationReleaseResourceSuccess { data { id status releasedAt } } ${ERROR_FIELDS} } }`,
      { id: resource.id },
      alice,
    );
    expect(released.data).toEqual({
      releaseResource: {
        __typename: 'MutationReleaseResourceSuccess',
        data: { id: resource.id, status: 'RELEASED', releasedAt: expect.any(String) },
      },
    });

    const after = await t.gql(
      '{ me { balance available } resources(status: [RUNNING]) { edges { node { id } } } }',
      {},
      alice,
    );
    expect(after.data).toEqual({ me: { balance: 66, available: 66 }, resources: { edges: [] } });

    const events = await t.gql(
      `query($id: ID!) { events(resourceId: $id) { seq type action severity resourceId } }`,
      { id: resource.id },
      alice,
    );
    const actions = (events.data as { events: Array<{ action: string }> }).events.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['resource.requested', 'resource.created', 'resource.released']));
  });

  it('pages resources with Relay cursors', async () => {
    const bob = await t.tokenFor('pager');
    await t.gql('mutation { grantCredits(input: { accountId: "pager", amount: 200 }) { __typename } }', {}, admin);
    for (const name of ['p1', 'p2', 'p3']) {
      const r = await t.gql(
        `mutation($input: CreateResourceInput!) { createResource(input: $input) { __typename } }`,
        { input: { name, provisioner: 'demo', spec: { cpu: '500m', memory: '512Mi', diskGb: 1 } } },
        bob,
      );
      expect(r.data).toEqual({ createResource: { __typename: 'MutationCreateResourceSuccess' } });
    }
    const page1 = await t.gql<{
      resources: {
        edges: Array<{ cursor: string; node: { name: string } }>;
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    }>('{ resources(first: 2) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }', {}, bob);
    expect(page1.data?.resources.edges.map((e) => e.node.name)).toEqual(['p3', 'p2']);
    expect(page1.data?.resources.pageInfo.hasNextPage).toBe(true);
    // Any edge cursor resumes after that edge; the last one equals the page's endCursor.
    expect(page1.data?.resources.edges[1]?.cursor).toBe(page1.data?.resources.pageInfo.endCursor);
    const page2 = await t.gql<{ resources: { edges: Array<{ node: { name: string } }> } }>(
      'query($after: String) { resources(first: 2, after: $after) { edges { node { name } } pageInfo { hasNextPage } } }',
      { after: page1.data?.resources.edges[0]?.cursor },
      bob,
    );
    expect(page2.data?.resources.edges.map((e) => e.node.name)).toEqual(['p2', 'p1']);
  });

  it('lists provisioners', async () => {
    const res = await t.gql('{ provisioners { name isDemo capabilities pricing } }', {}, alice);
    expect(res.data).toEqual({
      provisioners: [
        {
          name: 'demo',
          isDemo: true,
          capabilities: [
            'optionsSchema',
            'start',
            'stop',
            'restart',
            'reset',
            'reconfigure',
            'attach',
            'detach',
            'catalog',
          ],
          pricing: 'standard',
        },
        // Demo mode with no VM_POOL_JSON: the built-in demo pool.
        { name: 'pool', isDemo: true, capabilities: ['refresh', 'jobHandlers'], pricing: 'standard' },
      ],
    });
  });

  it("lists a provisioner's catalog, null without one, and a size from it quotes like its spec", async () => {
    const res = await t.gql<{ provisioners: Array<{ name: string; catalog: Record<string, unknown> | null }> }>(
      `{ provisioners { name catalog { imageOption sizeOption anySpec images { name description isDefault }
         sizes { name vcpu memoryMb diskGb isDefault gpu { count model memoryGb } } } } }`,
      {},
      alice,
    );
    const [demo, pool] = res.data?.provisioners ?? [];
    expect(pool).toEqual({ name: 'pool', catalog: null });
    expect(demo?.catalog).toMatchObject({ imageOption: 'image', sizeOption: 'size', anySpec: true });
    expect(demo?.catalog?.images).toContainEqual({
      name: 'debian-12',
      description: 'Debian 12 (bookworm)',
      isDefault: true,
    });
    expect(demo?.catalog?.sizes).toContainEqual({
      name: 'gpu-small',
      vcpu: 4,
      memoryMb: 16384,
      diskGb: 50,
      isDefault: false,
      gpu: { count: 1, model: 'demo-gpu', memoryGb: 16 },
    });
    // A client fills options and spec from it: medium is 2 vCPU, 2 GiB, 20 GB = 20 + 20 + 4 credits.
    const quote = await t.gql<{ quote: { data?: { price: number } } }>(
      `{ quote(input: { name: "q", provisioner: "demo", spec: { vcpu: 2, memoryMb: 2048, diskGb: 20 },
         options: { size: "medium", image: "ubuntu-24.04" } }) { ... on QueryQuoteSuccess { data { price } } } }`,
      {},
      alice,
    );
    expect(quote.data?.quote.data?.price).toBe(44);
  });

  it('answers health without a token', async () => {
    expect(await t.gql('{ health __typename }')).toEqual({ data: { health: 'ok', __typename: 'Query' } });
    const res = await t.app.yoga.fetch('http://localhost/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});
