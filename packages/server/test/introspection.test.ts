/**
 * Introspection, field suggestions and GraphiQL follow NODE_ENV: off in production, on
 * otherwise; each has a variable that overrides the default either way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createTestApp, TEST_SECRET, type TestApp } from './helpers.js';

const INTROSPECT = '{ __schema { queryType { name } } }';
const TYPO = '{ healt }';

async function graphiqlServed(t: TestApp): Promise<boolean> {
  const res = await t.app.yoga.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } });
  return res.status === 200 && (res.headers.get('content-type') ?? '').includes('text/html');
}

describe('NODE_ENV decides the defaults', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('production: no introspection, no suggestions, no GraphiQL', async () => {
    t = await createTestApp({ start: false, env: { NODE_ENV: 'production' } });
    const introspection = await t.gql(INTROSPECT);
    expect(introspection.data ?? null).toBeNull();
    expect(introspection.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: '__schema' });
    const type = await t.gql('{ __type(name: "Query") { name } }');
    expect(type.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: '__type' });
    const typo = await t.gql(TYPO);
    expect(typo.errors?.[0]?.message).toBe('Cannot query field "healt" on type "Query".');
    expect(typo.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // __typename is not introspection: clients need it for unions.
    expect((await t.gql('{ __typename health }')).data).toEqual({ __typename: 'Query', health: 'ok' });
    expect(await graphiqlServed(t)).toBe(false);
  });

  it('anything else: introspection, suggestions and GraphiQL', async () => {
    t = await createTestApp({ start: false });
    expect((await t.gql(INTROSPECT)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect((await t.gql(TYPO)).errors?.[0]?.message).toMatch(/Did you mean "health"\?/);
    expect(await graphiqlServed(t)).toBe(true);
  });

  it('production with all three asked for', async () => {
    t = await createTestApp({
      start: false,
      env: {
        NODE_ENV: 'production',
        SLIPWAY_INTROSPECTION: 'true',
        SLIPWAY_FIELD_SUGGESTIONS: 'true',
        SLIPWAY_GRAPHIQL: 'true',
      },
    });
    expect((await t.gql(INTROSPECT)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect((await t.gql(TYPO)).errors?.[0]?.message).toMatch(/Did you mean/);
    expect(await graphiqlServed(t)).toBe(true);
  });

  it('development with introspection turned off', async () => {
    t = await createTestApp({ start: false, env: { SLIPWAY_INTROSPECTION: 'false' } });
    expect((await t.gql(INTROSPECT)).errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  it('config: the flags and their defaults', () => {
    const base = { SLIPWAY_JWT_SECRET: TEST_SECRET };
    const prod = loadConfig({ ...base, NODE_ENV: 'production' });
    expect([prod.introspection, prod.fieldSuggestions, prod.graphiql]).toEqual([false, false, false]);
    const dev = loadConfig({ ...base, NODE_ENV: 'development' });
    expect([dev.introspection, dev.fieldSuggestions, dev.graphiql]).toEqual([true, true, true]);
    expect(() => loadConfig({ ...base, SLIPWAY_INTROSPECTION: 'maybe' })).toThrow(/^SLIPWAY_INTROSPECTION: /);
  });
});
