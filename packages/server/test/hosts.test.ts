/**
 * Hosts through GraphQL: a create on a host-placed provisioner shows its `host`, a requested
 * host is honoured, or refused (an unknown one: CapacityExhaustedError to users, like a full
 * one, and a ValidationError to admins), a full host answers CapacityExhaustedError, quotes
 * say why not, and only admins list `hosts`.
 */
import { type Actor, defineProvisioner } from '@slipway/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers.js';

const rack = defineProvisioner({
  name: 'rack',
  isDemo: true,
  host: { name: 'rack-1', capacity: { vcpu: 2, memoryMb: 2048, diskGb: 20 } },
  async allocate(req) {
    return { resourceId: req.resourceId, externalId: `rack-1/${req.resourceId}` };
  },
  async release() {},
  async status() {
    return { state: 'running' };
  },
});

const CREATE = `mutation($input: CreateResourceInput!) { createResource(input: $input) {
  __typename
  ... on MutationCreateResourceSuccess { data { id status host } }
  ... on ValidationError { code field }
  ... on CapacityExhaustedError { code message } } }`;
const QUOTE = `query($input: CreateResourceInput!) { quote(input: $input) {
  ... on QueryQuoteSuccess { data { admitted reason host } } } }`;
const HOSTS = '{ hosts { name provisioner capacity { vcpu memoryMb diskGb } used { vcpu memoryMb resources } state } }';
const SPEC = { vcpu: 1, memoryMb: 1024, diskGb: 5 };

describe('hosts over GraphQL', () => {
  let t: TestApp;
  let admin: string;
  let alice: string;

  beforeAll(async () => {
    t = await createTestApp({ provisioners: [rack] });
    admin = await t.tokenFor('root', 'admin');
    alice = await t.tokenFor('alice');
    const root: Actor = { id: 'root', role: 'admin' };
    await t.app.slipway.accounts.grant(root, { accountId: 'alice', amount: 1000 });
  });
  afterAll(() => t.close());

  const create = (name: string, extra: Record<string, unknown> = {}, token = alice) =>
    t.gql<{ createResource: Record<string, unknown> }>(
      CREATE,
      { input: { name, provisioner: 'rack', spec: SPEC, ...extra } },
      token,
    );

  it('places creates on the host, refuses an unknown host, and answers CapacityExhaustedError when full', async () => {
    const first = await create('one');
    expect(first.data?.createResource).toMatchObject({ data: { status: 'RUNNING', host: 'rack-1' } });
    const named = await create('two', { host: 'rack-1' });
    expect(named.data?.createResource).toMatchObject({ data: { host: 'rack-1' } });
    const unknown = await create('three', { host: 'rack-9' });
    expect(unknown.data?.createResource).toEqual({
      __typename: 'CapacityExhaustedError',
      code: 'CAPACITY_EXHAUSTED',
      message: 'no room for 1 vCPU, 1024 MB, 5 GB on the requested host rack-9 of rack',
    });
    const unknownToAdmin = await create('three', { host: 'rack-9' }, admin);
    expect(unknownToAdmin.data?.createResource).toMatchObject({ __typename: 'ValidationError', field: 'host' });
    const quote = await t.gql(QUOTE, { input: { name: 'q', provisioner: 'rack', spec: SPEC } }, alice);
    expect(quote.data).toEqual({ quote: { data: { admitted: false, reason: 'CAPACITY_EXHAUSTED', host: null } } });
    const full = await create('four');
    expect(full.data?.createResource).toEqual({
      __typename: 'CapacityExhaustedError',
      code: 'CAPACITY_EXHAUSTED',
      message: 'no room for 1 vCPU, 1024 MB, 5 GB on any host of rack',
    });
  });

  it('lists hosts to admins only', async () => {
    const listed = await t.gql(HOSTS, {}, admin);
    expect(listed.data).toEqual({
      hosts: [
        {
          name: 'rack-1',
          provisioner: 'rack',
          capacity: { vcpu: 2, memoryMb: 2048, diskGb: 20 },
          used: { vcpu: 2, memoryMb: 2048, resources: 2 },
          state: 'UP',
        },
      ],
    });
    const asUser = await t.gql(HOSTS, {}, alice);
    expect(asUser.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});
