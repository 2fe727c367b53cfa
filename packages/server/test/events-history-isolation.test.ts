import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, SPEC, type TestApp } from './helpers.js';

describe('events newest first', () => {
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
  });
  afterAll(() => t.close());

  it('bob sees none of alice’s events, by resourceId or not', async () => {
    const all = await t.gql<{ events: unknown[] }>('{ events(last: 100) { seq ownerId } }', {}, bob);
    expect(all.errors).toBeUndefined();
    expect(all.data?.events).toEqual([]);
    for (const id of [aliceResource, aliceResource.toUpperCase()]) {
      const res = await t.gql<{ events: unknown[] }>(
        'query($id: ID) { events(resourceId: $id, last: 100, before: "9223372036854775807") { seq } }',
        { id },
        bob,
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.events).toEqual([]);
    }
    const mine = await t.gql<{ events: unknown[] }>('{ events(last: 100) { seq } }', {}, alice);
    expect(mine.data?.events.length).toBeGreaterThan(0);
  });

  it('bad input is a typed error, never INTERNAL_SERVER_ERROR', async () => {
    const docs = [
      '{ events(before: "abc") { seq } }',
      '{ events(before: "9223372036854775808") { seq } }',
      '{ events(before: 1.5) { seq } }',
      '{ events(before: "-1", last: 5) { seq } }',
      '{ events(last: -5) { seq } }',
      '{ events(last: 0) { seq } }',
      '{ events(last: 2147483648) { seq } }',
      '{ events(last: 3, resourceId: "nope") { seq } }',
      '{ events(first: 3, before: 5) { seq } }',
    ];
    const seen: Record<string, unknown> = {};
    for (const doc of docs) {
      const res = await t.gql(doc, {}, alice);
      seen[doc] = res.errors?.map((e) => e.extensions?.code) ?? 'ok';
    }
    const vars = await t.gql('query($b: BigInt) { events(before: $b) { seq } }', { b: 'x1' }, alice);
    seen.vars = vars.errors?.map((e) => e.extensions?.code) ?? 'ok';
    expect(JSON.stringify(seen)).not.toContain('INTERNAL');
  });
});
