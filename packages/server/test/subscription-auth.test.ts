/** A subscription says why its token was refused, as queries do (it once said "A bearer token is required"). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../src/auth.js';
import { createTestApp, TEST_SECRET, type TestApp } from './helpers.js';

/** Subscribe over SSE and return the stream's whole text (an error ends it). */
async function subscribe(t: TestApp, authorization?: string): Promise<string> {
  const res = await t.app.yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify({ query: 'subscription { events { seq } }' }),
    signal: AbortSignal.timeout(10_000),
  });
  return res.text();
}

function firstError(stream: string): { message: string; extensions?: Record<string, unknown> } | undefined {
  const data = stream.split('\n').find((line) => line.startsWith('data:') && line.includes('"errors"'));
  return data ? JSON.parse(data.slice(5)).errors[0] : undefined;
}

describe('events subscription with a refused token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ start: false });
  });
  afterAll(async () => t.close());

  it('an expired token: UNAUTHENTICATED saying it expired', async () => {
    const expired = await mintToken({ secret: TEST_SECRET, userId: 'alice', expiresIn: -60 });
    const error = firstError(await subscribe(t, `Bearer ${expired}`));
    expect(error?.message).toBe('The bearer token has expired');
    expect(error?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'expired' });
  });

  it('an invalid token, and none', async () => {
    const invalid = firstError(await subscribe(t, 'Bearer not-a-jwt'));
    expect(invalid?.message).toBe('The bearer token is invalid');
    expect(invalid?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid' });
    const none = firstError(await subscribe(t));
    expect(none?.message).toMatch(/^A bearer token is required/);
    expect(none?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
  });

  it('queries say the same', async () => {
    const expired = await mintToken({ secret: TEST_SECRET, userId: 'alice', expiresIn: -60 });
    const result = await t.gql('{ me { id } }', {}, expired);
    expect(result.errors?.[0]?.message).toBe('The bearer token has expired');
  });
});
