/**
 * Property-based fuzzing of the whole GraphQL API (issue 10). For every Query and Mutation
 * field, fast-check generates arguments from the schema's types — valid (creates on 'demo',
 * grants, operations on existing ids), boundary and hostile — and runs them as two users, an
 * admin, nobody and a forged token against one app. Every answer must be data or a typed
 * error (never INTERNAL_SERVER_ERROR); after each batch the ledger invariants hold, GET
 * /healthz is 200, and neither user can see or touch the other's resources.
 *
 * FUZZ_RUNS (default 25) batches of 8–16 operations per engine; PostgreSQL gets a third of
 * them when it is reachable (always under CI). Reproduce a failure with the printed seed and
 * path: FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/fuzz/api-fuzz.test.ts
 */
import { readFileSync } from 'node:fs';
import type { DatabaseEngine } from '@slipway/core';
import { testEngines } from '@slipway/core/testing';
import fc from 'fast-check';
import { buildSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcomes, runBatch, type Step } from './batch.js';
import { type ActorName, type FuzzApp, startFuzzApp } from './harness.js';
import { FIELDS, operationArb } from './operations.js';
import { World } from './world.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 25);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const PATH = process.env.FUZZ_PATH;

const garbageArb: fc.Arbitrary<Step> = fc.record({
  actor: fc.constantFrom<ActorName>('alice', 'anon'),
  garbage: fc.oneof(
    fc.string(),
    fc.constantFrom(
      '',
      'null',
      '[]',
      '{"query":1}',
      '{"query":"{ me { id } }","variables":"x"}',
      '{"query":"{ me { id } }","variables":[1]}',
      '{"query":"{ me { id } }","operationName":{}}',
      '{"query":"{ me { id } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"x"}}}',
      '{"query":"{ __schema { types { name } } }"}',
      '{"query":"{ health }"',
    ),
  ),
});

const batchArb = fc.record({
  steps: fc.array(
    fc.oneof({ arbitrary: operationArb as fc.Arbitrary<Step>, weight: 24 }, { arbitrary: garbageArb, weight: 1 }),
    { minLength: 8, maxLength: 16 },
  ),
  // One batch in four runs its operations four at a time.
  concurrency: fc.constantFrom(1, 1, 1, 4),
});

const engines: DatabaseEngine[] = await testEngines();

describe.each(engines)('API fuzz on %s', (engine) => {
  let t: FuzzApp;
  const world = new World();
  beforeAll(async () => {
    t = await startFuzzApp(engine);
    for (const user of ['alice', 'bob']) {
      const grant = await t.gql(
        'mutation($a: ID!) { grantCredits(input: { accountId: $a, amount: 1000000 }) { __typename } }',
        { a: user },
        'root',
      );
      expect(grant.text).toContain('MutationGrantCreditsSuccess');
    }
  });
  afterAll(() => t?.close());

  it('covers every Query and Mutation field of schema.graphql', () => {
    const sdl = buildSchema(readFileSync(new URL('../../packages/server/schema.graphql', import.meta.url), 'utf8'));
    const published = [sdl.getQueryType(), sdl.getMutationType()].flatMap((type) =>
      Object.keys(type?.getFields() ?? {}),
    );
    expect(FIELDS.map((f) => f.field.name).sort()).toEqual(published.sort());
  });

  it('answers data or a typed error, keeps the ledger and isolation, stays healthy', async () => {
    let operations = 0;
    outcomes.clear();
    await fc.assert(
      fc.asyncProperty(batchArb, async ({ steps, concurrency }) => {
        operations += steps.length;
        const problems = await runBatch(t, world, steps, concurrency);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      }),
      {
        numRuns: engine === 'pglite' ? RUNS : Math.max(1, Math.round(RUNS / 3)),
        ...(SEED === undefined ? {} : { seed: SEED }),
        ...(PATH === undefined ? {} : { path: PATH }),
        // The app keeps its state between batches, so a shrunk batch would run on a different
        // world: report the first failing batch as it ran, with its seed.
        endOnFailure: true,
      },
    );
    expect(operations).toBeGreaterThan(0);
    if (process.env.FUZZ_STATS === '1') {
      const lines = [...outcomes].map(([f, m]) => `${f}: ${[...m].map(([o, n]) => `${o} ${n}`).join(', ')}`);
      console.log(`${operations} operations on ${engine}\n${lines.sort().join('\n')}`);
    }
  }, 180_000);
});
