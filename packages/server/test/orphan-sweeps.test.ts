/**
 * The orphan reaper over GraphQL: admins see the last sweep of each provisioner with
 * inventory, with its counts; users get FORBIDDEN; a resource the reaper marked GONE shows it.
 */
import { type Actor, defineProvisioner } from '@slipway/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers.js';

/** Machines at a pretend provider: resource id → external id. */
const machines = new Map<string, string>();
const strays = ['stray-1'];

const cloud = defineProvisioner({
  name: 'cloud',
  isDemo: true,
  async allocate(req) {
    machines.set(req.resourceId, `m-${req.resourceId}`);
    return { resourceId: req.resourceId, externalId: `m-${req.resourceId}` };
  },
  async release(a) {
    machines.delete(a.resourceId);
  },
  async status(a) {
    return { state: machines.has(a.resourceId) ? 'running' : 'gone' };
  },
  async inventory() {
    return [
      ...[...machines].map(([resourceId, externalId]) => ({ resourceId, externalId })),
      ...strays.map((externalId) => ({ externalId })),
    ];
  },
});

const SWEEPS = `{ orphanSweeps { provisioner host startedAt finishedAt listed orphansSeen released markedGone error } }`;

describe('orphanSweeps over GraphQL', () => {
  let t: TestApp;
  let admin: string;
  let alice: string;

  beforeAll(async () => {
    t = await createTestApp({ provisioners: [cloud], start: false });
    admin = await t.tokenFor('root', 'admin');
    alice = await t.tokenFor('alice');
    const root: Actor = { id: 'root', role: 'admin' };
    await t.app.slipway.accounts.grant(root, { accountId: 'alice', amount: 1000 });
  });
  afterAll(() => t.close());

  it('shows admins the last sweep per provisioner; users get FORBIDDEN', async () => {
    expect((await t.gql(SWEEPS, {}, admin)).data).toEqual({ orphanSweeps: [] });
    const created = await t.gql<{ createResource: { data: { id: string } } }>(
      `mutation($input: CreateResourceInput!) { createResource(input: $input) {
        ... on MutationCreateResourceSuccess { data { id } } } }`,
      { input: { name: 'vm', provisioner: 'cloud', spec: { vcpu: 1, memoryMb: 512, diskGb: 10 } } },
      alice,
    );
    const id = created.data?.createResource.data.id ?? '';
    machines.delete(id); // vanished at the provider
    await new Promise((resolve) => setTimeout(resolve, 5)); // the sweep starts after the commit

    expect(await t.app.slipway.sweep()).toMatchObject({ reaperSweepsScheduled: 1 });
    expect(await t.app.slipway.runJobs()).toBe(1);

    const sweeps = await t.gql<{ orphanSweeps: Record<string, unknown>[] }>(SWEEPS, {}, admin);
    expect(sweeps.errors).toBeUndefined();
    expect(sweeps.data?.orphanSweeps).toEqual([
      {
        provisioner: 'cloud',
        host: null,
        startedAt: expect.any(String),
        finishedAt: expect.any(String),
        listed: 1,
        orphansSeen: 1,
        released: 0,
        markedGone: 1,
        error: null,
      },
    ]);
    const resource = await t.gql(`query($id: ID!) { resource(id: $id) { status allowedActions } }`, { id }, alice);
    expect(resource.data).toEqual({ resource: { status: 'GONE', allowedActions: [] } });

    const asUser = await t.gql(SWEEPS, {}, alice);
    expect(asUser.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});
