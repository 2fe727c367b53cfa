/**
 * Credits beyond 32 bits: wallets are bigint in the database and `Credits` in the API (a safe
 * integer), so grants that pass 2^31 answer with data, and a grant that would push a balance
 * past LIMITS.credits.maxBalance is refused before anything is written.
 */
import { LIMITS } from '@slipway/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, ERROR_FIELDS, SPEC, type TestApp, VALIDATION_FIELDS } from './helpers.js';

const GRANT = `mutation($input: GrantCreditsInput!) { grantCredits(input: $input) {
  ${ERROR_FIELDS} ${VALIDATION_FIELDS} ... on MutationGrantCreditsSuccess { data { balance held available } } } }`;
const ME = '{ me { balance held available } }';
const QUOTE = `query($input: CreateResourceInput!) { quote(input: $input) { ... on QueryQuoteSuccess { data { price available admitted } } } }`;

describe('credits beyond 32 bits', () => {
  let t: TestApp;
  let admin: string;
  let user: string;
  beforeAll(async () => {
    t = await createTestApp({ start: false });
    admin = await t.tokenFor('root', 'admin');
    user = await t.tokenFor('whale');
  });
  afterAll(() => t.close());

  it('three grants of 10^9 answer with data, and me and quote keep working', async () => {
    for (let i = 1; i <= 3; i++) {
      const r = await t.gql(GRANT, { input: { accountId: 'whale', amount: 1_000_000_000 } }, admin);
      expect(r.errors).toBeUndefined();
      expect(r.data).toEqual({
        grantCredits: {
          __typename: 'MutationGrantCreditsSuccess',
          data: { balance: i * 1e9, held: 0, available: i * 1e9 },
        },
      });
    }
    expect((await t.gql(ME, {}, user)).data).toEqual({ me: { balance: 3e9, held: 0, available: 3e9 } });
    const quote = await t.gql(QUOTE, { input: { name: 'q', provisioner: 'demo', spec: SPEC } }, user);
    expect(quote.errors).toBeUndefined();
    expect(quote.data).toMatchObject({ quote: { data: { available: 3e9, admitted: true } } });
  });

  it('a grant past the maximum balance is a ValidationError naming amount, and nothing moves', async () => {
    const max = LIMITS.credits.maxBalance;
    // Reaching 10^15 by grants of 10^9 takes a million of them: set the wallet directly.
    const before = (await t.gql<{ me: { balance: number } }>(ME, {}, user)).data?.me.balance ?? 0;
    expect(before).toBeLessThan(max);
    await t.app.slipway.storage.db
      .updateTable('wallets')
      .set({ balance: max - 10 })
      .where('account_id', '=', 'whale')
      .execute();
    const r = await t.gql(GRANT, { input: { accountId: 'whale', amount: 11 } }, admin);
    expect(r.errors).toBeUndefined();
    expect(r.data).toMatchObject({
      grantCredits: { __typename: 'ValidationError', code: 'VALIDATION_FAILED', field: 'amount' },
    });
    expect((await t.gql(ME, {}, user)).data).toEqual({ me: { balance: max - 10, held: 0, available: max - 10 } });
    const ok = await t.gql(GRANT, { input: { accountId: 'whale', amount: 10 } }, admin);
    expect(ok.data).toMatchObject({ grantCredits: { data: { balance: max } } });
  });

  it('an amount that is not a safe integer is refused as input, not as a server error', async () => {
    for (const amount of [2 ** 53, 1.5, '12']) {
      const r = await t.gql(GRANT, { input: { accountId: 'whale', amount } }, admin);
      expect(r.data ?? null).toBeNull();
      expect(r.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
      expect(r.errors?.[0]?.message).toMatch(/amount|Credits/);
    }
  });
});
