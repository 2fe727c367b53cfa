import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, verifyToken } from '../src/auth.js';
import { createTestApp, TEST_SECRET, type TestApp } from './helpers.js';

describe('authentication and roles', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const codes = (res: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
    res.errors?.map((e) => e.extensions?.code);

  it('no token → UNAUTHENTICATED on every field but health', async () => {
    const res = await t.gql('{ health me { id } provisioners { name } }');
    // graphql-js stops collecting once a non-null root field nulls `data`: one error or more.
    expect(new Set(codes(res))).toEqual(new Set(['UNAUTHENTICATED']));
    expect(res.errors?.[0]?.message).toMatch(/bearer token is required/i);
    expect(res.data).toBeNull();
    const mutation = await t.gql('mutation { releaseResource(id: "x") { __typename } }');
    expect(codes(mutation)).toEqual(['UNAUTHENTICATED']);
  });

  it('a bad, forged or expired token → UNAUTHENTICATED, saying why', async () => {
    const garbage = await t.gql('{ me { id } }', {}, 'not-a-jwt');
    expect(codes(garbage)).toEqual(['UNAUTHENTICATED']);
    expect(garbage.errors?.[0]?.message).toMatch(/invalid/);

    const forged = await mintToken({ secret: 'another-secret-another-secret-another', userId: 'alice' });
    expect(codes(await t.gql('{ me { id } }', {}, forged))).toEqual(['UNAUTHENTICATED']);

    const expired = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(TEST_SECRET));
    const res = await t.gql('{ me { id } }', {}, expired);
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.errors?.[0]?.message).toMatch(/expired/);

    const badSubject = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('has spaces')
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect(codes(await t.gql('{ me { id } }', {}, badSubject))).toEqual(['UNAUTHENTICATED']);
  });

  it('a non-admin gets FORBIDDEN for admin fields', async () => {
    const user = await t.tokenFor('mallory');
    const res = await t.gql(
      'mutation { grantCredits(input: { accountId: "mallory", amount: 1000 }) { __typename } }',
      {},
      user,
    );
    expect(codes(res)).toEqual(['FORBIDDEN']);
    const me = await t.gql('{ me { balance } }', {}, user);
    expect(me.data).toEqual({ me: { balance: 0 } });
  });

  it('tokens carry sub and role (user by default)', async () => {
    const before = Date.now();
    expect(await verifyToken(await mintToken({ secret: TEST_SECRET, userId: 'u1' }), TEST_SECRET)).toEqual({
      actor: { id: 'u1', role: 'user' },
      problem: null,
      expiresAt: expect.any(Date),
    });
    // An hour by default: the token's `exp`, which ends an event stream opened with it.
    const { expiresAt } = (await verifyToken(await mintToken({ secret: TEST_SECRET, userId: 'u1' }), TEST_SECRET)) as {
      expiresAt: Date;
    };
    expect(expiresAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3_600_000);
    expect(expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000);
    const admin = await mintToken({ secret: TEST_SECRET, userId: 'root', role: 'admin', expiresIn: '30d' });
    const me = await t.gql('{ me { id role } }', {}, admin);
    expect(me.data).toEqual({ me: { id: 'root', role: 'ADMIN' } });
    await expect(mintToken({ secret: TEST_SECRET, userId: 'bad id' })).rejects.toThrow(/userId/);
    await expect(mintToken({ secret: TEST_SECRET, userId: 'ok', expiresIn: 'soon' })).rejects.toThrow(/expiresIn/);
  });
});
