/**
 * Minimal cases of what the API fuzzer (api-fuzz.test.ts) found, one per root cause. Each
 * fails until its fix lands; the fix each needs is named above it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from '../support/invariants.js';
import { KNOWN_CODES } from './checks.js';
import { type Answer, type FuzzApp, startFuzzApp } from './harness.js';

function codes(answer: Answer): unknown[] {
  const body = answer.body as { errors?: Array<{ extensions?: { code?: unknown } }> } | undefined;
  return (body?.errors ?? []).map((e) => e.extensions?.code);
}

/** Data or errors that each carry a known typed code; never a 5xx or INTERNAL_SERVER_ERROR. */
function expectTyped(answer: Answer): void {
  expect(answer.status).toBeLessThan(500);
  expect(answer.body).toBeTypeOf('object');
  for (const code of codes(answer)) {
    expect(code).not.toBe('INTERNAL_SERVER_ERROR');
    expect(KNOWN_CODES.has(String(code)), `code ${String(code)} in ${answer.text.slice(0, 300)}`).toBe(true);
  }
}

const nested = (open: string, inner: string, close: string, depth: number) =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

/**
 * graphql-js parses recursively: a document nesting an object or list literal, or a selection
 * set, ~2,000 deep overflows the stack inside `parse` and yoga answers HTTP 500 "Unexpected
 * error.". A token limit (GraphQL Armor maxTokens, branch `harden`) stops the default case,
 * but not a server whose SLIPWAY_MAX_QUERY_TOKENS is raised. Fix: a parse that cannot overflow
 * (refuse nesting past a bound before graphql-js parses, or turn a RangeError thrown by parse
 * into a typed QUERY_TOO_COMPLEX/VALIDATION_FAILED in an onParse hook).
 */
const DEEP_DOCUMENTS: Array<[string, string]> = [
  [
    'an object literal 2,000 deep',
    `mutation { updateResourceMetadata(id: "x", patch: ${nested('{a:', '1', '}', 2000)}) { __typename } }`,
  ],
  ['a list literal 2,000 deep', `{ events(first: ${nested('[', '1', ']', 2000)}) { seq } }`],
  ['a selection set 3,000 deep', `{ me ${nested('{ id ', '', '}', 3000)} }`],
];

/**
 * graphql-js's variable coercion errors ("Variable "$f" got invalid value …", HTTP 400) reach
 * the client without `extensions.code`: the error mask (packages/server/src/errors/mask-error.ts)
 * passes a GraphQLError with no originalError through untouched. Fix there: give such errors
 * VALIDATION_FAILED with `field` from the message (inputPath already parses it), or BAD_USER_INPUT.
 */
const COERCION: Array<[string, string, Record<string, unknown>]> = [
  ['an Int beyond 32 bits', 'query($f: Int) { events(first: $f) { seq } }', { f: 2 ** 31 }],
  ['a required variable not given', 'query($id: ID!) { resource(id: $id) { id } }', {}],
  [
    'an input field the type does not have',
    'mutation($i: GrantCreditsInput!) { grantCredits(input: $i) { __typename } }',
    { i: { accountId: 'alice', amount: 1, bogus: 1 } },
  ],
  [
    'an enum value that does not exist',
    'mutation($a: ResourceAction!) { resourceAction(id: "x", action: $a) { __typename } }',
    { a: 'NOPE' },
  ],
];

describe('fuzz regressions', () => {
  let t: FuzzApp;
  let raised: FuzzApp;
  beforeAll(async () => {
    t = await startFuzzApp('pglite');
    raised = await startFuzzApp('pglite', { SLIPWAY_MAX_QUERY_TOKENS: '1000000' });
  });
  afterAll(async () => {
    await t?.close();
    await raised?.close();
  });

  describe('a document nested too deep to parse is a typed error, not HTTP 500', () => {
    it.each(DEEP_DOCUMENTS)('%s', async (_what, query) => {
      expectTyped(await t.gql(query, {}, 'alice'));
    });
    it.each(DEEP_DOCUMENTS)('%s, on a server with a raised token limit', async (_what, query) => {
      expectTyped(await raised.gql(query, {}, 'alice'));
    });
  });

  describe('a variable that does not coerce is an error with a code', () => {
    it.each(COERCION)('%s', async (_what, query, variables) => {
      const answer = await t.gql(query, variables, 'root');
      expect(codes(answer).length).toBeGreaterThan(0);
      expectTyped(answer);
    });
  });

  /**
   * test/support/invariants.ts wants every RELEASED resource charged, but the core lets its
   * owner release a FAILED allocation (no machine, hold refunded) straight to RELEASED, as the
   * simulation's checker (test/simulation/invariants.ts) and docs/testing.md allow. Fix the
   * shared checker: RELEASED with a released/expired hold is fine when the resource never ran
   * (external_id null, cost 0); docs/credit-model.md says the same.
   */
  it('a failed allocation released by its owner satisfies checkInvariants', async () => {
    await t.gql('mutation { grantCredits(input: { accountId: "alice", amount: 1000 }) { __typename } }', {}, 'root');
    const create = await t.gql(
      `mutation { createResource(input: { name: "f", provisioner: "demo", options: { fail: true },
        spec: { vcpu: 1, memoryMb: 512, diskGb: 1 } }) { __typename ... on ProvisionerError { code resourceId } } }`,
      {},
      'alice',
    );
    const failed = (create.body as { data: { createResource: { code: string; resourceId: string } } }).data
      .createResource;
    expect(failed.code).toBe('PROVISIONER_FAILED');
    const release = await t.gql(
      'mutation($id: ID!) { releaseResource(id: $id) { ... on MutationReleaseResourceSuccess { data { status cost } } } }',
      { id: failed.resourceId },
      'alice',
    );
    expect(release.body).toEqual({ data: { releaseResource: { data: { status: 'RELEASED', cost: 0 } } } });
    expect((await checkInvariants(t.storage.db)).problems).toEqual([]);
  });
});
