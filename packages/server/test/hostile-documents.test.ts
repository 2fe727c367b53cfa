/**
 * Documents an attacker shapes around the edge checks (review of the `harden` merge): a hostile
 * value in a variable's default, a list literal nested deep enough to overflow the parser
 * within the token limit, and "Did you mean …?" suggestions that a production server must not
 * give even where graphql-js words them differently or reports them while coercing variables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nestingOver } from '../src/plugins/nesting-limit.js';
import { createTestApp, type GqlResult, type TestApp } from './helpers.js';

const codes = (r: GqlResult<unknown>) => (r.errors ?? []).map((e) => e.extensions?.code);
const nested = (open: string, inner: string, close: string, depth: number) =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

describe('hostile documents', () => {
  let t: TestApp;
  let user: string;
  let admin: string;
  beforeAll(async () => {
    t = await createTestApp({ start: false });
    user = await t.tokenFor('mallory');
    admin = await t.tokenFor('root', 'admin');
  });
  afterAll(() => t.close());

  describe("a variable's default value meets the input policy like a literal", () => {
    it.each([
      [
        'an ID default with NUL (admin account lookup)',
        'query($id: ID = "a\\u0000b") { account(id: $id) { id } }',
        'id',
      ],
      ['a required ID default with NUL', 'query($id: ID! = "a\\u0000b") { account(id: $id) { id } }', 'id'],
      [
        'a String default with NUL',
        'query($p: String = "a\\u0000") { poolAllocations(provisioner: $p) { machineId } }',
        'p',
      ],
      [
        'an over-long String default',
        `query($p: String = "${'x'.repeat(100_000)}") { poolAllocations(provisioner: $p) { machineId } }`,
        'p',
      ],
    ])('%s', async (_what, query, field) => {
      const r = await t.gql(query, {}, admin);
      expect(codes(r)).toEqual(['VALIDATION_FAILED']);
      expect(r.errors?.[0]?.extensions?.field).toBe(field);
    });

    it('is checked even when the variable is given (the default is still in the document)', async () => {
      const r = await t.gql('query($id: ID = "a\\u0000b") { account(id: $id) { id } }', { id: 'root' }, admin);
      expect(codes(r)).toEqual(['VALIDATION_FAILED']);
    });
  });

  describe('a document nesting too deep for the parser is QUERY_TOO_COMPLEX, never HTTP 500', () => {
    it.each([
      [
        'a list literal 1,990 deep (within the default token limit)',
        `{ events(first: ${nested('[', '1', ']', 1990)}) { seq } }`,
      ],
      [
        'a list literal 1,990 deep in a default value',
        `query($f: Int = ${nested('[', '1', ']', 1990)}) { events(first: $f) { seq } }`,
      ],
      ['inline fragments 990 deep', `{ ${nested('... { ', 'health', ' }', 990)} }`],
    ])('%s', async (_what, query) => {
      const res = await t.app.yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user}` },
        body: JSON.stringify({ query }),
      });
      expect(res.status).toBeLessThan(500);
      const r = (await res.json()) as GqlResult<unknown>;
      expect(codes(r)).toContain('QUERY_TOO_COMPLEX');
      expect(codes(r)).not.toContain('INTERNAL_SERVER_ERROR');
    });

    it('lets ordinary nesting through (object literals, lists, selections)', async () => {
      const r = await t.gql(
        `query($m: JSON = ${nested('{a:', '[1]', '}', 20)}) { me { id } events(first: 1) { seq }
          quote(input: { name: "q", provisioner: "none", metadata: $m, spec: { vcpu: 1, memoryMb: 512, diskGb: 1 } }) { __typename } }`,
        {},
        user,
      );
      expect(r.errors).toBeUndefined();
    });
  });
});

describe('nesting on a server with raised limits', () => {
  let t: TestApp;
  let user: string;
  beforeAll(async () => {
    t = await createTestApp({
      start: false,
      env: { SLIPWAY_MAX_QUERY_TOKENS: '10000000', SLIPWAY_MAX_QUERY_DEPTH: '1000' },
    });
    user = await t.tokenFor('mallory');
  });
  afterAll(() => t.close());

  // Up to the nesting bound (2 × (1000 + 32) + 512) the parser may overflow its stack: still a typed answer.
  it.each([1900, 2000, 2090, 2500, 2600, 50_000])('a list literal %i deep', async (depth) => {
    const res = await t.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user}` },
      body: JSON.stringify({ query: `{ events(first: ${nested('[', '1', ']', depth)}) { seq } }` }),
    });
    expect(res.status).toBeLessThan(500);
    const r = (await res.json()) as GqlResult<unknown>;
    expect(r.errors?.length).toBeGreaterThan(0);
    expect(codes(r)).not.toContain('INTERNAL_SERVER_ERROR');
  });
});

describe('nestingOver', () => {
  it('counts brackets outside strings, block strings and comments', () => {
    expect(nestingOver('{ a { b } }', 2)).toBe(false);
    expect(nestingOver('{ a { b { c } } }', 2)).toBe(true);
    expect(nestingOver('{ a(x: "{{{{\\"{{{") }', 2)).toBe(false);
    expect(nestingOver('{ a(x: """ {{{ \\""" {{{ """) }', 2)).toBe(false);
    expect(nestingOver('{ a # {{{{\n }', 2)).toBe(false);
    expect(nestingOver('{ a(x: [[1]]) }', 3)).toBe(true);
  });
});

describe('field suggestions off (NODE_ENV=production)', () => {
  let t: TestApp;
  let user: string;
  beforeAll(async () => {
    t = await createTestApp({ start: false, env: { NODE_ENV: 'production' } });
    user = await t.tokenFor('mallory');
  });
  afterAll(() => t.close());

  const messages = (r: GqlResult<unknown>) => (r.errors ?? []).map((e) => e.message).join('\n');

  it.each([
    ['an enum literal', '{ resources(status: [RUNING]) { edges { cursor } } }', {}],
    [
      'an enum value in a variable',
      'query($s: [ResourceStatus!]) { resources(status: $s) { edges { cursor } } }',
      { s: ['RUNING'] },
    ],
    [
      'an input field in a variable',
      'query($i: CreateResourceInput!) { quote(input: $i) { __typename } }',
      { i: { nam: 'x', name: 'x', provisioner: 'p', spec: { vcpu: 1, memoryMb: 512, diskGb: 1 } } },
    ],
    ['a field name', '{ resourcez { edges { cursor } } }', {}],
  ])('no suggestion for %s', async (_what, query, variables) => {
    const r = await t.gql(query, variables, user);
    expect(r.errors?.length).toBeGreaterThan(0);
    expect(messages(r)).not.toMatch(/Did you mean/);
    expect(messages(r)).not.toMatch(/RUNNING|"name"|"resources"/);
  });
});
