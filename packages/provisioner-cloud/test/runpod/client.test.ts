// The GraphQL transport: classification of RunPod's HTTP-200 errors, and the fake's statuses.
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { MyPodsQuery } from '../../src/runpod/documents.js';
import { graphqlError, RunpodClient } from '../../src/runpod/index.js';
import { type ProviderHttpError, toSlipwayError } from '../../src/shared/provider-error.js';
import { ProviderPolicy } from '../../src/shared/provider-policy.js';
import { CAPACITY_MESSAGES } from '../support/runpod-fake.js';
import { useRunpodFake } from './helpers.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')) as {
    errors: { message: string; extensions?: { code: string } }[];
  };
const rp = useRunpodFake();

describe('graphqlError', () => {
  it.each(CAPACITY_MESSAGES)('capacity: %s → CAPACITY_EXHAUSTED', (message) => {
    const error = graphqlError({ message });
    expect(error.kind).toBe('capacity');
    expect(toSlipwayError(error, 'runpod', 'create pod')).toMatchObject({ code: 'CAPACITY_EXHAUSTED' });
  });

  it('the reference fixtures classify as expected', () => {
    const first = (name: string) => graphqlError(fixture(name).errors[0] ?? {});
    expect(first('DERIVED_graphql_error_no_capacity_http200.json').kind).toBe('capacity');
    expect(first('DERIVED_graphql_error_terminate_not_found_http200.json')).toMatchObject({
      kind: 'not_found',
      details: { errorId: 'pod not found to terminate' },
    });
    const internal = first('DERIVED_graphql_error_internal_http200.json');
    expect(internal).toMatchObject({ kind: 'server', transient: true });
  });

  it('any other error is a client error, not repeated', () => {
    const error = graphqlError({ message: 'Invalid gpuTypeId', extensions: { code: 'BAD_USER_INPUT' } });
    expect(error).toMatchObject({ kind: 'client', transient: false, details: { errorId: 'BAD_USER_INPUT' } });
    expect(graphqlError({ message: 'Something went wrong.' }).kind).toBe('server');
  });
});

describe('RunpodClient against the fake', () => {
  const client = (apiKey = rp.fake.apiKey) =>
    new RunpodClient({ apiKey, baseUrl: rp.fake.url, policy: new ProviderPolicy('runpod', { maxAttempts: 1 }) });
  const opts = { what: 'list pods', idempotent: true, signal: new AbortController().signal };

  it('sends a Bearer key; the fake also accepts ?api_key', async () => {
    const fake = rp.fresh();
    await expect(client().request(MyPodsQuery, {}, opts)).resolves.toEqual({ myself: { pods: [] } });
    const response = await fetch(`${fake.url}?api_key=${fake.apiKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ myself { pods { id } } }' }),
    });
    expect(response.status).toBe(200);
  });

  it('a bad key is HTTP 401 → auth', async () => {
    rp.fresh();
    const error = await client('rp_bad')
      .request(MyPodsQuery, {}, opts)
      .catch((e: ProviderHttpError) => e);
    expect(error).toMatchObject({ kind: 'auth', details: { status: 401 } });
  });

  it('a document the schema refuses is HTTP 400 → client', async () => {
    const fake = rp.fresh();
    const wrong = parse('query { myself { pods { id gpuTypeName } } }') as unknown as typeof MyPodsQuery;
    const error = await client()
      .request(wrong, {}, opts)
      .catch((e: ProviderHttpError) => e);
    expect(error).toMatchObject({ kind: 'client', details: { status: 400 } });
    expect(fake.requests.map((r) => r.status)).toEqual([400]);
  });
});
