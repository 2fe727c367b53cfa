/**
 * Hostile input reaches no resolver and no database: NUL characters, unpaired surrogates,
 * JSON nested thousands deep and dates JavaScript cannot hold are each a typed
 * VALIDATION_FAILED naming the field, whether sent as a variable or as a literal, and no
 * credit moves (regressions of what an attacker found answering INTERNAL_SERVER_ERROR).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type GqlResult, SPEC, type TestApp } from './helpers.js';

const CREATE = `mutation($input: CreateResourceInput!) { createResource(input: $input) {
  __typename ... on Error { code message } ... on ValidationError { field } } }`;
const ME = '{ me { balance held available } }';

/** An answer that refused the input: a typed error (top-level or in the union) naming `field`. */
function expectRefused(r: GqlResult<Record<string, unknown>>, field: RegExp) {
  const top = r.errors?.[0];
  if (top) {
    expect(top.extensions?.code).toBe('VALIDATION_FAILED');
    expect(String(top.extensions?.field)).toMatch(field);
    return;
  }
  const union = Object.values(r.data ?? {})[0] as { __typename: string; code: string; field: string };
  expect(union).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
  expect(union.field).toMatch(field);
}

describe('hostile input', () => {
  let t: TestApp;
  let user: string;
  let admin: string;
  beforeAll(async () => {
    t = await createTestApp({ start: false });
    user = await t.tokenFor('mallory');
    admin = await t.tokenFor('root', 'admin');
    await t.gql('mutation { grantCredits(input: { accountId: "mallory", amount: 1000 }) { __typename } }', {}, admin);
  });
  afterAll(() => t.close());

  const input = (extra: Record<string, unknown>) => ({ name: 'h', provisioner: 'demo', spec: SPEC, ...extra });

  it.each([
    ['metadata value', { metadata: { note: 'a\u0000b' } }, /metadata\.note/],
    ['metadata key', { metadata: { 'k\u0000': 1 } }, /metadata/],
    ['label value', { labels: { team: 'x\u0000' } }, /labels\.team/],
    ['requestId', { requestId: 'r\u0000' }, /requestId/],
    ['unpaired surrogate', { metadata: { s: 'x\ud800y' } }, /metadata\.s/],
    ['expiresAt not a date', { expiresAt: 'not-a-date' }, /expiresAt/],
    ['expiresAt beyond JavaScript dates', { expiresAt: '+275760-09-14T00:00:00.000Z' }, /expiresAt/],
  ])('create with a hostile %s is refused, nothing held', async (_what, extra, field) => {
    expectRefused(await t.gql(CREATE, { input: input(extra) }, user), field);
    expect((await t.gql(ME, {}, user)).data).toEqual({ me: { balance: 1000, held: 0, available: 1000 } });
  });

  it('metadata nested 5,000 deep (raw JSON: too deep for JSON.stringify) is refused, nothing held', async () => {
    const metadata = `${'{"a":'.repeat(5000)}"x"${'}'.repeat(5000)}`;
    const body = `{"query":${JSON.stringify(CREATE)},"variables":{"input":{"name":"h","provisioner":"demo","spec":${JSON.stringify(SPEC)},"metadata":${metadata}}}}`;
    const res = await t.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user}` },
      body,
    });
    expectRefused((await res.json()) as GqlResult<Record<string, unknown>>, /input\.metadata/);
    expect((await t.gql(ME, {}, user)).data).toEqual({ me: { balance: 1000, held: 0, available: 1000 } });
  });

  it('the same values as literals in the document are refused too', async () => {
    const literal = `mutation { createResource(input: { name: "h", provisioner: "demo",
      spec: { vcpu: 1, memoryMb: 512, diskGb: 1 }, metadata: { note: "a\\u0000b" } }) { __typename } }`;
    expectRefused(await t.gql(literal, {}, user), /metadata\.note/);
    let nested = '"x"';
    for (let i = 0; i < 200; i++) nested = `{ a: ${nested} }`;
    const deepLiteral = `mutation { createResource(input: { name: "h", provisioner: "demo",
      spec: { vcpu: 1, memoryMb: 512, diskGb: 1 }, metadata: ${nested} }) { __typename } }`;
    expectRefused(await t.gql(deepLiteral, {}, user), /metadata/);
  });

  it('a grant note, a metadata patch and list filters with NUL are refused', async () => {
    const grant = await t.gql(
      `mutation($input: GrantCreditsInput!) { grantCredits(input: $input) { __typename } }`,
      { input: { accountId: 'mallory', amount: 5, note: 'n\u0000' } },
      admin,
    );
    expectRefused(grant, /note/);
    const patch = await t.gql(
      'mutation($id: ID!, $patch: JSON!) { updateResourceMetadata(id: $id, patch: $patch) { __typename } }',
      { id: '00000000-0000-4000-8000-000000000000', patch: { x: '\u0000' } },
      user,
    );
    expectRefused(patch, /patch\.x/);
    const list = await t.gql(
      'query($p: String) { resources(provisioner: $p) { pageInfo { hasNextPage } } }',
      { p: 'd\u0000' },
      user,
    );
    expectRefused(list, /^p$/);
    expect((await t.gql(ME, {}, user)).data).toEqual({ me: { balance: 1000, held: 0, available: 1000 } });
  });

  it('expiresAt is capped like ttlSeconds', async () => {
    const far = new Date(Date.now() + 400 * 24 * 3600 * 1000).toISOString();
    expectRefused(await t.gql(CREATE, { input: input({ expiresAt: far }) }, user), /expiresAt/);
  });
});
