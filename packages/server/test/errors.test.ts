import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDITS_FIELDS, createTestApp, ERROR_FIELDS, SPEC, type TestApp, VALIDATION_FIELDS } from './helpers.js';

const CREATE = `mutation($input: CreateResourceInput!) { createResource(input: $input) {
  ... on MutationCreateResourceSuccess { data { id status } }
  ${ERROR_FIELDS} ${VALIDATION_FIELDS} ${CREDITS_FIELDS}
  ... on IdempotencyMismatchError { fields }
  ... on ProvisionerError { resourceId } } }`;

describe('typed errors', () => {
  let t: TestApp;
  let admin: string;
  let carol: string;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await t.tokenFor('admin', 'admin');
    carol = await t.tokenFor('carol');
    await t.gql('mutation { grantCredits(input: { accountId: "carol", amount: 50 }) { __typename } }', {}, admin);
  });
  afterAll(() => t.close());

  it('a bad spec is a ValidationError naming spec.vcpu', async () => {
    const res = await t.gql(CREATE, { input: { name: 'bad', provisioner: 'demo', spec: { ...SPEC, vcpu: 0 } } }, carol);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      createResource: {
        __typename: 'ValidationError',
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining('spec.vcpu'),
        field: 'spec.vcpu',
        issues: [{ field: 'spec.vcpu', message: expect.any(String) }],
      },
    });
  });

  it('quote reports validation in its union too, and an unknown provisioner keeps its code', async () => {
    const res = await t.gql(
      `query($input: CreateResourceInput!) { quote(input: $input) { ${ERROR_FIELDS} ${VALIDATION_FIELDS} } }`,
      { input: { name: 'x', provisioner: 'nope', spec: SPEC } },
      carol,
    );
    expect(res.data).toMatchObject({
      quote: { __typename: 'ValidationError', code: 'UNKNOWN_PROVISIONER', field: 'provisioner' },
    });
  });

  it('insufficient credits: typed error with required/available, nothing written', async () => {
    const res = await t.gql(CREATE, { input: { name: 'big', provisioner: 'demo', spec: { ...SPEC, vcpu: 8 } } }, carol);
    expect(res.data).toEqual({
      createResource: {
        __typename: 'InsufficientCreditsError',
        code: 'INSUFFICIENT_CREDITS',
        message: expect.any(String),
        required: 94,
        available: 50,
      },
    });
    const after = await t.gql('{ me { balance held available } resources { edges { node { id } } } }', {}, carol);
    expect(after.data).toEqual({ me: { balance: 50, held: 0, available: 50 }, resources: { edges: [] } });
  });

  it('a failing allocation is a ProvisionerError with the resource id, and is refunded', async () => {
    const res = await t.gql(
      CREATE,
      { input: { name: 'doomed', provisioner: 'demo', spec: SPEC, options: { fail: true } } },
      carol,
    );
    expect(res.data).toMatchObject({
      createResource: { __typename: 'ProvisionerError', code: 'PROVISIONER_FAILED', resourceId: expect.any(String) },
    });
    expect((await t.gql('{ me { available } }', {}, carol)).data).toEqual({ me: { available: 50 } });
  });

  it('reusing a requestId with other parameters is an IdempotencyMismatchError', async () => {
    const input = {
      name: 'idem',
      provisioner: 'demo',
      spec: { vcpu: 1, memoryMb: 512, diskGb: 0 },
      requestId: 'req-1',
    };
    const first = await t.gql(CREATE, { input }, carol);
    expect(first.data).toMatchObject({ createResource: { __typename: 'MutationCreateResourceSuccess' } });
    const again = await t.gql(CREATE, { input }, carol);
    expect(again.data).toEqual(first.data);
    const changed = await t.gql(CREATE, { input: { ...input, name: 'other' } }, carol);
    expect(changed.data).toMatchObject({
      createResource: { __typename: 'IdempotencyMismatchError', code: 'IDEMPOTENCY_MISMATCH', fields: ['name'] },
    });
  });

  it('create with wait: false answers PROVISIONING; the background job finishes it', async () => {
    const res = await t.gql<{ createResource: { data: { id: string; status: string } } }>(
      `mutation($input: CreateResourceInput!) { createResource(input: $input, wait: false) {
         ... on MutationCreateResourceSuccess { data { id status } } ${ERROR_FIELDS} } }`,
      {
        input: {
          name: 'later',
          provisioner: 'demo',
          spec: { vcpu: 1, memoryMb: 512, diskGb: 0 },
          options: { delayMs: 100 },
        },
      },
      carol,
    );
    expect(res.data?.createResource.data.status).toBe('PROVISIONING');
    const id = res.data?.createResource.data.id;
    let status = 'PROVISIONING';
    for (let i = 0; i < 100 && status === 'PROVISIONING'; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      const got = await t.gql<{ resource: { status: string } }>(
        'query($id: ID!) { resource(id: $id) { status } }',
        { id },
        carol,
      );
      status = got.data?.resource.status ?? 'missing';
    }
    expect(status).toBe('RUNNING');
  });

  it('too many creates in a minute is a RateLimitedError', async () => {
    const erin = await t.tokenFor('erin');
    await t.gql('mutation { grantCredits(input: { accountId: "erin", amount: 1000 }) { __typename } }', {}, admin);
    const results: unknown[] = [];
    for (let i = 0; i < 6; i += 1) {
      const res = await t.gql<{ createResource: unknown }>(
        `mutation($input: CreateResourceInput!) { createResource(input: $input) {
           ${ERROR_FIELDS} ... on RateLimitedError { retryAfterSeconds } } }`,
        { input: { name: `r${i}`, provisioner: 'demo', spec: { vcpu: 1, memoryMb: 512, diskGb: 0 } } },
        erin,
      );
      results.push(res.data?.createResource);
    }
    expect(results.slice(0, 5)).toEqual(Array(5).fill({ __typename: 'MutationCreateResourceSuccess' }));
    expect(results[5]).toMatchObject({
      __typename: 'RateLimitedError',
      code: 'RATE_LIMITED',
      retryAfterSeconds: expect.any(Number),
    });
  });

  it('top-level errors carry extensions.code and details', async () => {
    const res = await t.gql('{ resources(after: "garbage") { edges { cursor } } }', {}, carol);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'after' });
    const events = await t.gql('{ events(resourceId: "not-a-uuid") { seq } }', {}, carol);
    expect(events.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'resourceId' });
  });

  it('releasing twice answers the released resource; metadata must be an object', async () => {
    const created = await t.gql<{ createResource: { data: { id: string } } }>(
      CREATE,
      { input: { name: 'twice', provisioner: 'demo', spec: { vcpu: 1, memoryMb: 512, diskGb: 0 } } },
      carol,
    );
    const id = created.data?.createResource.data.id;
    const release = `mutation($id: ID!) { releaseResource(id: $id) { ... on MutationReleaseResourceSuccess { data { status } } ${ERROR_FIELDS} } }`;
    expect((await t.gql(release, { id }, carol)).data).toMatchObject({
      releaseResource: { data: { status: 'RELEASED' } },
    });
    expect((await t.gql(release, { id }, carol)).data).toMatchObject({
      releaseResource: { data: { status: 'RELEASED' } },
    });
    const patch = await t.gql(
      `mutation($id: ID!) { updateResourceMetadata(id: $id, patch: [1, 2]) { ${ERROR_FIELDS} ${VALIDATION_FIELDS} } }`,
      { id },
      carol,
    );
    expect(patch.data).toMatchObject({ updateResourceMetadata: { __typename: 'ValidationError', field: 'metadata' } });
  });
});

describe('unexpected errors are masked', () => {
  it('a database failure surfaces as "Unexpected error." without internals', async () => {
    // No background loops: they would hold LISTEN on the database this test pulls away.
    const t = await createTestApp({ start: false });
    const token = await t.tokenFor('dave');
    expect((await t.gql('{ me { id } }', {}, token)).data).toEqual({ me: { id: 'dave' } });
    await t.app.slipway.storage.close();
    const res = await t.gql('{ me { id } }', {}, token);
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0]?.message).toBe('Unexpected error.');
    expect(res.errors?.[0]?.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(JSON.stringify(res)).not.toMatch(/pglite|closed|kysely|stack/i);
    const health = await t.app.yoga.fetch('http://localhost/healthz');
    expect(health.status).toBe(503);
    await t.app.close();
  });
});
