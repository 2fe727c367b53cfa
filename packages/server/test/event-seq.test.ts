/**
 * Event seqs are 64-bit (a bigserial column): `BigInt` in the API, a decimal string out, a
 * string or an Int in; anything else is VALIDATION_FAILED naming `after`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers.js';

describe('event seq as BigInt', () => {
  let t: TestApp;
  let user: string;
  let seqs: string[];
  beforeAll(async () => {
    t = await createTestApp({ start: false });
    const admin = await t.tokenFor('root', 'admin');
    user = await t.tokenFor('sam');
    for (let i = 0; i < 3; i++) {
      await t.gql('mutation { grantCredits(input: { accountId: "sam", amount: 5 }) { __typename } }', {}, admin);
    }
    const r = await t.gql<{ events: { seq: string }[] }>('{ events { seq } }', {}, user);
    seqs = r.data?.events.map((e) => e.seq) ?? [];
  });
  afterAll(() => t.close());

  it('answers seq as a decimal string', () => {
    expect(seqs.length).toBeGreaterThanOrEqual(3);
    for (const seq of seqs) expect(seq).toMatch(/^[1-9][0-9]*$/);
    expect(seqs.map(Number)).toEqual([...seqs.map(Number)].sort((a, b) => a - b));
  });

  it('takes after as a string or an Int, literal or variable', async () => {
    const [first] = seqs;
    const rest = seqs.slice(1);
    const byVariable = await t.gql<{ events: { seq: string }[] }>(
      'query($a: BigInt) { events(after: $a) { seq } }',
      { a: first },
      user,
    );
    expect(byVariable.data?.events.map((e) => e.seq)).toEqual(rest);
    const byString = await t.gql<{ events: { seq: string }[] }>(`{ events(after: "${first}") { seq } }`, {}, user);
    expect(byString.data?.events.map((e) => e.seq)).toEqual(rest);
    const byInt = await t.gql<{ events: { seq: string }[] }>(`{ events(after: ${first}) { seq } }`, {}, user);
    expect(byInt.data?.events.map((e) => e.seq)).toEqual(rest);
  });

  it('reaches the whole 64-bit range: after the largest seq there is nothing', async () => {
    const r = await t.gql('query($a: BigInt) { events(after: $a) { seq } }', { a: '9223372036854775807' }, user);
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ events: [] });
    const below = await t.gql<{ events: unknown[] }>('{ events(after: "-9223372036854775808") { seq } }', {}, user);
    expect(below.data?.events).toHaveLength(seqs.length);
  });

  it('refuses what is not a 64-bit integer: VALIDATION_FAILED naming the variable, as every scalar', async () => {
    for (const a of [
      '9223372036854775808',
      '-9223372036854775809',
      'abc',
      '1.5',
      '1e3',
      ' 1',
      '',
      1.5,
      2 ** 53,
      true,
    ]) {
      const r = await t.gql('query($a: BigInt) { events(after: $a) { seq } }', { a }, user);
      expect(r.data ?? null, JSON.stringify(a)).toBeNull();
      expect(r.errors?.[0]?.extensions, JSON.stringify(a)).toEqual({ code: 'VALIDATION_FAILED', field: 'a' });
      expect(r.errors?.[0]?.message, JSON.stringify(a)).toMatch(/BigInt must be a whole number/);
    }
    // In the document itself it is the document that does not match the schema.
    for (const literal of ['"x"', '"9223372036854775808"', '1.5', 'true']) {
      const r = await t.gql(`{ events(after: ${literal}) { seq } }`, {}, user);
      expect(r.errors?.[0]?.extensions?.code, literal).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(r.errors?.[0]?.message, literal).toMatch(/BigInt/);
    }
  });

  it('pages newest first with last and before, each event once, down to the oldest', async () => {
    const newest = await t.gql<{ events: { seq: string }[] }>('{ events(last: 2) { seq } }', {}, user);
    const page1 = newest.data?.events.map((e) => e.seq) ?? [];
    expect(page1).toEqual([...seqs].reverse().slice(0, 2));
    const seen = [...page1];
    let before = page1.at(-1);
    for (let i = 0; i < 10 && before; i++) {
      const r = await t.gql<{ events: { seq: string }[] }>(
        'query($b: BigInt) { events(before: $b, last: 2) { seq } }',
        { b: before },
        user,
      );
      const page = r.data?.events.map((e) => e.seq) ?? [];
      seen.push(...page);
      before = page.length === 2 ? page.at(-1) : undefined;
    }
    expect(seen).toEqual([...seqs].reverse());
    // Below the smallest seq there is nothing; the two directions do not mix.
    const none = await t.gql('{ events(before: "-9223372036854775808") { seq } }', {}, user);
    expect(none.data).toEqual({ events: [] });
    const mixed = await t.gql('{ events(after: 1, last: 2) { seq } }', {}, user);
    expect(mixed.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'after' });
  });
});
