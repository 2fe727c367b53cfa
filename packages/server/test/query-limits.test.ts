/**
 * The query limits (plugins/query-limits.ts, plugins/query-cost.ts): each one refuses a
 * document just over it with QUERY_TOO_COMPLEX naming the limit, and lets one at it through;
 * the issue's two attacks (thousands of aliases of `resources(first: 100)`, 5,000 aliases
 * of `me`) are refused before anything runs.
 */
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERY_LIMIT_DEFAULTS } from '../src/config.js';
import { createTestApp, type GqlResult, type TestApp } from './helpers.js';

const aliases = (n: number, selection: string) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${selection}`).join(' ')} }`;

function refusal(result: GqlResult<unknown>, limit: string) {
  expect(result.data ?? null).toBeNull();
  const error = result.errors?.find((e) => e.extensions?.code === 'QUERY_TOO_COMPLEX');
  expect(error?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit });
  return error;
}

describe('default limits', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp({ start: false });
    token = await t.tokenFor('mallory');
  });
  afterAll(async () => t.close());

  it('refuse 5,000 aliases of `me` at the token limit, while parsing', async () => {
    const error = refusal(await t.gql(aliases(5000, 'me { id }'), {}, token), 'tokens');
    expect(error?.extensions?.max).toBe(QUERY_LIMIT_DEFAULTS.maxTokens);
  });

  it('refuse thousands of aliases of `resources(first: 100)`', async () => {
    refusal(await t.gql(aliases(3000, 'resources(first: 100) { edges { node { id } } }'), {}, token), 'tokens');
  });

  it('refuse the attacks by aliases and cost when the token limit is out of the way', async () => {
    const roomy = await createTestApp({ start: false, env: { SLIPWAY_MAX_QUERY_TOKENS: '1000000' } });
    try {
      const mallory = await roomy.tokenFor('mallory');
      refusal(await roomy.gql(aliases(5000, 'me { id }'), {}, mallory), 'aliases');
      refusal(
        await roomy.gql(aliases(3000, 'resources(first: 100) { edges { node { id } } }'), {}, mallory),
        'aliases',
      );
      // Within the alias limit, the page sizes add up past the cost limit.
      const heavy = aliases(
        QUERY_LIMIT_DEFAULTS.maxAliases,
        'resources(first: 100) { edges { node { id name status } } }',
      );
      refusal(await roomy.gql(heavy, {}, mallory), 'cost');
    } finally {
      await roomy.close();
    }
  });

  it('refuse fragments spread over and over (2^30 selections from a few hundred tokens) as too costly', async () => {
    const levels = 30;
    const fragments = Array.from(
      { length: levels },
      (_, i) => `fragment F${i} on Query { ${i + 1 < levels ? `...F${i + 1} ...F${i + 1}` : 'me { id }'} }`,
    );
    const error = refusal(await t.gql(`{ ...F0 } ${fragments.join(' ')}`, {}, token), 'cost');
    expect(error?.extensions?.max).toBe(QUERY_LIMIT_DEFAULTS.maxCost);
  });

  it('let the biggest single pages and the introspection query through', async () => {
    const page = await t.gql(
      `{ resources(first: 100) { edges { cursor node { id name kind provisioner status cost ownerId ip externalId
          metadata labels createdAt spec { vcpu memoryMb diskGb } devices { id } } } pageInfo { hasNextPage endCursor } }
         me { id balance available held } }`,
      {},
      token,
    );
    expect(page.errors).toBeUndefined();
    const events = await t.gql(
      '{ events(first: 500) { seq type action severity actorId ownerId resourceId data createdAt } }',
      {},
      token,
    );
    expect(events.errors).toBeUndefined();
    const introspection = await t.gql(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }));
    expect(introspection.errors).toBeUndefined();
  });
});

describe('each limit, configured small', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp({
      start: false,
      env: {
        SLIPWAY_MAX_QUERY_DEPTH: '4',
        SLIPWAY_MAX_QUERY_ALIASES: '2',
        SLIPWAY_MAX_QUERY_TOKENS: '100',
        SLIPWAY_MAX_QUERY_DIRECTIVES: '2',
        SLIPWAY_MAX_QUERY_COST: '100',
      },
    });
    token = await t.tokenFor('alice');
  });
  afterAll(async () => t.close());

  const ok = async (query: string, variables: Record<string, unknown> = {}) => {
    const result = await t.gql(query, variables, token);
    expect(result.errors).toBeUndefined();
    return result;
  };

  it('depth', async () => {
    await ok('{ resources { edges { node { id } } } }');
    const error = refusal(await t.gql('{ resources { edges { node { spec { vcpu } } } } }', {}, token), 'depth');
    expect(error?.extensions).toMatchObject({ max: 4, found: 5 });
    // Fragments count as the fields they hold, as if written inline.
    await ok('{ resources { edges { ...E } } } fragment E on ResourceEdge { node { id } }');
    refusal(
      await t.gql('{ resources { edges { ...E } } } fragment E on ResourceEdge { node { spec { vcpu } } }', {}, token),
      'depth',
    );
    refusal(await t.gql('{ resources { edges { node { ... on Resource { spec { vcpu } } } } } }', {}, token), 'depth');
  });

  it('aliases', async () => {
    await ok('{ a: me { id } b: me { id } }');
    const error = refusal(await t.gql('{ a: me { id } b: me { id } c: me { id } }', {}, token), 'aliases');
    expect(error?.extensions).toMatchObject({ max: 2, found: 3 });
  });

  it('tokens', async () => {
    // `{`, n × `health`, `}`: n + 2 tokens.
    await ok(`{ ${'health '.repeat(98)}}`);
    const error = refusal(await t.gql(`{ ${'health '.repeat(99)}}`, {}, token), 'tokens');
    expect(error?.extensions).toMatchObject({ max: 100 });
  });

  it('directives', async () => {
    await ok('{ health @include(if: true) me @skip(if: false) { id } }');
    const error = refusal(
      await t.gql('{ health @include(if: true) me @skip(if: false) { id @include(if: true) } }', {}, token),
      'directives',
    );
    expect(error?.extensions).toMatchObject({ max: 2, found: 3 });
  });

  it('cost: a list costs its page size times its selection, `first` from a literal, a variable or the default', async () => {
    // events(first: n) { seq action } costs 1 + 2n.
    await ok('{ events(first: 49) { seq action } }');
    let error = refusal(await t.gql('{ events(first: 50) { seq action } }', {}, token), 'cost');
    expect(error?.extensions).toMatchObject({ max: 100, found: 101 });
    const byVariable = 'query($n: Int) { events(first: $n) { seq action } }';
    await ok(byVariable, { n: 49 });
    refusal(await t.gql(byVariable, { n: 50 }, token), 'cost');
    // No `first`: the default page (50 events).
    error = refusal(await t.gql('{ events { seq action } }', {}, token), 'cost');
    expect(error?.extensions?.found).toBe(101);
    // A `first` over the page maximum costs the maximum (500 events), as that is what it returns.
    error = refusal(await t.gql('{ events(first: 100000) { seq } }', {}, token), 'cost');
    expect(error?.extensions?.found).toBe(501);
    // Newest first, `last` counts the same way.
    await ok('{ events(last: 49) { seq action } }');
    error = refusal(await t.gql('{ events(last: 50, before: 7) { seq action } }', {}, token), 'cost');
    expect(error?.extensions?.found).toBe(101);
    // resources: default page 20, `edges` counted once: 1 + 20 × (1 + (1 + 1)).
    await ok('{ resources { edges { node { id } } } }');
    refusal(await t.gql('{ resources(first: 34) { edges { node { id } } } }', {}, token), 'cost');
  });

  it('cost counts fragments where they are spread', async () => {
    const query = 'query($n: Int) { events(first: $n) { ...E } } fragment E on Event { seq action }';
    await ok(query, { n: 49 });
    refusal(await t.gql(query, { n: 50 }, token), 'cost');
  });

  it('a refusal comes before any resolver: nothing is created for a refused caller', async () => {
    const admin = await t.tokenFor('root', 'admin');
    const stranger = await t.tokenFor('stranger');
    refusal(await t.gql('{ a: me { id } b: me { id } c: me { id } }', {}, stranger), 'aliases');
    const found = await t.gql<{ account: { id: string } }>('{ account(id: "stranger") { id } }', {}, admin);
    expect(found.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
