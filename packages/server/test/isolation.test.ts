import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, ERROR_FIELDS, SPEC, type TestApp } from './helpers.js';

describe('users see only their own resources', () => {
  let t: TestApp;
  let admin: string;
  let alice: string;
  let bob: string;
  let aliceResource: string;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.tokenFor('admin', 'admin');
    alice = await t.tokenFor('alice');
    bob = await t.tokenFor('bob');
    await t.gql('mutation { grantCredits(input: { accountId: "alice", amount: 100 }) { __typename } }', {}, admin);
    const created = await t.gql<{ createResource: { data: { id: string } } }>(
      `mutation($input: CreateResourceInput!) { createResource(input: $input) {
         ... on MutationCreateResourceSuccess { data { id } } } }`,
      { input: { name: 'alice-box', provisioner: 'demo', spec: SPEC } },
      alice,
    );
    aliceResource = created.data?.createResource.data.id as string;
    expect(aliceResource).toBeTruthy();
  });
  afterAll(() => t.close());

  it('bob gets NOT_FOUND reading alice’s resource', async () => {
    const res = await t.gql('query($id: ID!) { resource(id: $id) { id } }', { id: aliceResource }, bob);
    expect(res.data).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(res.errors?.[0]?.path).toEqual(['resource']);
  });

  it('bob cannot release or update it (NotFoundError in the union)', async () => {
    const release = await t.gql(
      `mutation($id: ID!) { releaseResource(id: $id) { ${ERROR_FIELDS} } }`,
      { id: aliceResource },
      bob,
    );
    expect(release.data).toEqual({
      releaseResource: { __typename: 'NotFoundError', code: 'NOT_FOUND', message: expect.any(String) },
    });
    const update = await t.gql(
      `mutation($id: ID!) { updateResourceMetadata(id: $id, patch: { x: 1 }) { ${ERROR_FIELDS} } }`,
      { id: aliceResource },
      bob,
    );
    expect(update.data).toEqual({
      updateResourceMetadata: { __typename: 'NotFoundError', code: 'NOT_FOUND', message: expect.any(String) },
    });
    const refresh = await t.gql(
      `mutation($id: ID!) { refreshResource(id: $id) { ${ERROR_FIELDS} } }`,
      { id: aliceResource },
      bob,
    );
    expect(refresh.data).toMatchObject({ refreshResource: { __typename: 'NotFoundError' } });
  });

  it('bob lists nothing and sees none of alice’s events; alice’s resource is untouched', async () => {
    const bobView = await t.gql(
      'query($id: ID!) { resources { edges { node { id } } } events(resourceId: $id) { seq } }',
      { id: aliceResource },
      bob,
    );
    expect(bobView.data).toEqual({ resources: { edges: [] }, events: [] });
    const aliceView = await t.gql<{ resource: { status: string; metadata: unknown } }>(
      'query($id: ID!) { resource(id: $id) { status metadata } }',
      { id: aliceResource },
      alice,
    );
    expect(aliceView.data).toEqual({ resource: { status: 'RUNNING', metadata: {} } });
  });

  it('bob may not filter by another owner', async () => {
    const res = await t.gql('{ resources(ownerId: "alice") { edges { node { id } } } }', {}, bob);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('admin sees it, and can filter by owner', async () => {
    const res = await t.gql<{
      all: { edges: Array<{ node: { id: string; ownerId: string } }> };
      bobs: { edges: unknown[] };
    }>(
      `query($id: ID!) {
         all: resources { edges { node { id ownerId } } }
         bobs: resources(ownerId: "bob") { edges { node { id } } }
         one: resource(id: $id) { id ownerId }
         account(id: "alice") { balance }
       }`,
      { id: aliceResource },
      admin,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.all.edges.map((e) => e.node)).toEqual([{ id: aliceResource, ownerId: 'alice' }]);
    expect(res.data).toMatchObject({ bobs: { edges: [] }, one: { id: aliceResource }, account: { balance: 66 } });
  });

  it('a user reading another account gets NOT_FOUND-free FORBIDDEN (admin only)', async () => {
    const res = await t.gql('{ account(id: "alice") { id } }', {}, bob);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
