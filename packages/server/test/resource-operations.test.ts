/** Power, resize, hotplug through GraphQL: happy paths on the demo provisioner and every typed refusal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, ERROR_FIELDS, SPEC, type TestApp, VALIDATION_FIELDS } from './helpers.js';

const FIELDS = `id status cost spec { vcpu memoryMb } pendingSpec { vcpu memoryMb } allowedActions
  operation { action requestedBy } lastOperation { action succeeded code } devices { id type state sizeGb }`;
const ERRORS = `${ERROR_FIELDS} ${VALIDATION_FIELDS}
  ... on NotSupportedError { provisioner capability } ... on ConflictError { operation }`;
const result = (name: string, extra = '') =>
  `... on Mutation${name[0]?.toUpperCase()}${name.slice(1)}Success { data { ${FIELDS} } } ${ERRORS} ${extra}`;

const ACTION = `mutation($id: ID!, $action: ResourceAction!, $wait: Boolean) {
  resourceAction(id: $id, action: $action, wait: $wait) { ${result('resourceAction')} } }`;
const RESIZE = `mutation($id: ID!, $input: ResizeInput!, $wait: Boolean) {
  resizeResource(id: $id, input: $input, wait: $wait) {
    ${result('resizeResource', '... on InsufficientCreditsError { required available }')} } }`;
const REVERT = `mutation($id: ID!) { revertResize(id: $id) { ${result('revertResize')} } }`;
const ATTACH = `mutation($id: ID!, $input: AttachDeviceInput!) {
  attachDevice(id: $id, input: $input) { ${result('attachDevice')} } }`;
const DETACH = `mutation($id: ID!, $deviceId: ID!) {
  detachDevice(id: $id, deviceId: $deviceId) { ${result('detachDevice')} } }`;

type Out = Record<string, unknown> & { __typename: string; data?: Record<string, unknown> };

describe('resource operations over GraphQL', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    // No background runner: an operation asked for with wait: false stays in flight until the test runs it.
    t = await createTestApp({ start: false });
    const admin = await t.tokenFor('admin', 'admin');
    alice = await t.tokenFor('alice');
    bob = await t.tokenFor('bob');
    carol = await t.tokenFor('carol'); // a second owner: creates are rate-limited per account
    for (const accountId of ['alice', 'carol']) {
      await t.gql(
        'mutation($a: ID!) { grantCredits(input: { accountId: $a, amount: 200 }) { __typename } }',
        { a: accountId },
        admin,
      );
    }
  });
  afterAll(() => t.close());

  /** Run a mutation; GraphQL errors (an INTERNAL_SERVER_ERROR above all) fail the test. */
  async function call(query: string, variables: Record<string, unknown>, token = alice): Promise<Out> {
    const res = await t.gql<Record<string, Out>>(query, variables, token);
    expect(res.errors).toBeUndefined();
    return Object.values(res.data ?? {})[0] as Out;
  }

  async function create(provisioner = 'demo', token = alice) {
    const name = `vm-${Math.random().toString(36).slice(2, 8)}`;
    const res = await t.gql<{ createResource: { data: { id: string } } }>(
      `mutation($input: CreateResourceInput!) { createResource(input: $input) {
        ... on MutationCreateResourceSuccess { data { id } } ${ERROR_FIELDS} } }`,
      { input: { name, provisioner, spec: SPEC } },
      token,
    );
    const id = res.data?.createResource.data.id;
    if (!id) throw new Error(`create failed: ${JSON.stringify(res)}`);
    return id;
  }

  const wallet = async (token = alice) =>
    (await t.gql<{ me: { balance: number; held: number } }>('{ me { balance held } }', {}, token)).data?.me;

  it('resourceAction stops and starts; allowedActions follows', async () => {
    const id = await create();
    const stopped = await call(ACTION, { id, action: 'STOP' });
    expect(stopped.data).toMatchObject({
      status: 'STOPPED',
      operation: null,
      lastOperation: { action: 'STOP', succeeded: true, code: null },
      allowedActions: ['START', 'RESIZE', 'RELEASE'],
    });
    expect((await call(ACTION, { id, action: 'START' })).data).toMatchObject({ status: 'RUNNING' });
    for (const action of ['RESTART', 'RESET_HARD', 'RESET_SOFT']) {
      expect((await call(ACTION, { id, action })).data).toMatchObject({ status: 'RUNNING', operation: null });
    }
  });

  it('resizeResource holds the difference, a restart applies and charges it; revertResize releases it', async () => {
    const id = await create();
    const before = await wallet();
    const resized = await call(RESIZE, { id, input: { vcpu: 4 } });
    expect(resized.data).toMatchObject({ spec: { vcpu: 2 }, pendingSpec: { vcpu: 4, memoryMb: 1024 }, cost: 34 });
    expect(resized.data?.allowedActions).toContain('REVERT_RESIZE');
    expect(await wallet()).toEqual({ balance: before?.balance, held: 20 }); // 54 − 34
    const applied = await call(ACTION, { id, action: 'RESTART' });
    expect(applied.data).toMatchObject({ spec: { vcpu: 4 }, pendingSpec: null, cost: 54 });
    expect(await wallet()).toEqual({ balance: (before?.balance ?? 0) - 20, held: 0 });

    await call(RESIZE, { id, input: { memoryMb: 2048 } });
    expect((await wallet())?.held).toBe(10);
    const reverted = await call(REVERT, { id });
    expect(reverted.data).toMatchObject({ pendingSpec: null, spec: { vcpu: 4, memoryMb: 1024 }, cost: 54 });
    expect(await wallet()).toEqual({ balance: (before?.balance ?? 0) - 20, held: 0 });
  });

  it('attachDevice and detachDevice', async () => {
    const id = await create();
    const attached = await call(ATTACH, { id, input: { type: 'DISK', id: 'data', sizeGb: 10 } });
    expect(attached.data).toMatchObject({ devices: [{ id: 'data', type: 'DISK', state: 'ATTACHED', sizeGb: 10 }] });
    expect(attached.data?.allowedActions).toContain('DETACH_DEVICE');
    const nic = await call(ATTACH, { id, input: { type: 'NIC' } });
    expect(nic.data?.devices).toHaveLength(2);
    const detached = await call(DETACH, { id, deviceId: 'data' });
    expect(detached.data?.devices).toEqual([expect.objectContaining({ type: 'NIC', state: 'ATTACHED' })]);
  });

  it('a second operation while one is in flight is a ConflictError', async () => {
    const id = await create();
    const first = await call(ACTION, { id, action: 'STOP', wait: false });
    expect(first.data).toMatchObject({ status: 'RUNNING', operation: { action: 'STOP', requestedBy: 'alice' } });
    expect(first.data?.allowedActions).toEqual(['RELEASE']);
    for (const [query, variables] of [
      [ACTION, { id, action: 'RESTART' }],
      [RESIZE, { id, input: { vcpu: 3 } }],
      [ATTACH, { id, input: { type: 'NIC' } }],
    ] as const) {
      expect(await call(query, variables)).toMatchObject({
        __typename: 'ConflictError',
        code: 'CONFLICT',
        operation: 'STOP',
      });
    }
    await t.app.slipway.runJobs();
    expect((await call(ACTION, { id, action: 'START' })).data).toMatchObject({ status: 'RUNNING' });
  });

  it('a provisioner without the capability answers NotSupportedError (the pool)', async () => {
    const id = await create('pool');
    expect(await call(ACTION, { id, action: 'STOP' })).toMatchObject({
      __typename: 'NotSupportedError',
      code: 'NOT_SUPPORTED',
      provisioner: 'pool',
      capability: 'stop',
    });
    expect(await call(RESIZE, { id, input: { vcpu: 4 } })).toMatchObject({ capability: 'reconfigure' });
    expect(await call(ATTACH, { id, input: { type: 'NIC' } })).toMatchObject({ capability: 'attach' });
    const res = await t.gql<{ resource: { allowedActions: string[] } }>(
      'query($id: ID!) { resource(id: $id) { allowedActions } }',
      { id },
      alice,
    );
    expect(res.data?.resource.allowedActions).toEqual(['RELEASE']);
  });

  it('another user’s resource is not found, for every operation', async () => {
    const id = await create('demo', carol);
    for (const [query, variables] of [
      [ACTION, { id, action: 'STOP' }],
      [RESIZE, { id, input: { vcpu: 4 } }],
      [REVERT, { id }],
      [ATTACH, { id, input: { type: 'NIC' } }],
      [DETACH, { id, deviceId: 'x' }],
    ] as const) {
      expect(await call(query, variables, bob)).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    expect(await call(ACTION, { id: 'not-a-uuid', action: 'STOP' })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('bad input is a ValidationError naming the field; too big a resize is InsufficientCreditsError', async () => {
    const id = await create('demo', carol);
    await call(ATTACH, { id, input: { type: 'NIC', id: 'n1' } }, carol);
    for (const [query, variables, field] of [
      [RESIZE, { id, input: { vcpu: 0 } }, 'vcpu'],
      [RESIZE, { id, input: { memoryMb: 1 } }, 'memoryMb'],
      [RESIZE, { id, input: {} }, 'vcpu'],
      [RESIZE, { id, input: { vcpu: 2 } }, 'vcpu'],
      [ATTACH, { id, input: { type: 'DISK' } }, 'sizeGb'],
      [ATTACH, { id, input: { type: 'NIC', sizeGb: 2 } }, 'sizeGb'],
      [ATTACH, { id, input: { type: 'NIC', id: 'Not Valid' } }, 'id'],
      [ATTACH, { id, input: { type: 'NIC', id: 'n1' } }, 'id'],
      [DETACH, { id, deviceId: 'nope' }, 'deviceId'],
    ] as const) {
      expect(await call(query, variables, carol)).toMatchObject({ __typename: 'ValidationError', field });
    }
    const before = await wallet(carol);
    expect(await call(RESIZE, { id, input: { vcpu: 64 } }, carol)).toMatchObject({
      __typename: 'InsufficientCreditsError',
      code: 'INSUFFICIENT_CREDITS',
      required: 620, // 654 − 34
      available: (before?.balance ?? 0) - (before?.held ?? 0),
    });
    expect(await wallet(carol)).toEqual(before);
    expect(await call(REVERT, { id }, carol)).toMatchObject({ __typename: 'InvalidStateError', code: 'INVALID_STATE' });
  });
});
