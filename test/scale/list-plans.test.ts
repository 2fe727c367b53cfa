/**
 * Every list the API can build stays a bounded index scan on a large table: PostgreSQL's own
 * EXPLAIN ANALYZE of the exact SQL the core runs, on 50k resources and 100k events seeded by
 * SQL (1,000 users, one with 10%), first page and a page halfway down. Plan shapes and rows
 * read, not timings (see list-plans.ts for the rules). Needs PostgreSQL: fails without it.
 */

import { type Actor, openDatabase, resourceCursor, resourceListQuery, type SlipwayStorage } from '@slipway/core';
import { createScratchDatabase, type ScratchDatabase } from '@slipway/core/testing/databases';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ScaleSeed, scaleInvariantProblems, seedScale } from '../support/scale-seed.js';
import { explain, type ListCase, listCases, middleCursorRow, planProblems, planSummary } from './list-plans.js';

describe('list plans on a large table (PostgreSQL)', () => {
  let scratch: ScratchDatabase;
  let storage: SlipwayStorage;
  let seed: ScaleSeed;
  let cases: ListCase[];

  beforeAll(async () => {
    scratch = await createScratchDatabase('slipway_plans');
    storage = await openDatabase({ url: scratch.url, poolSize: 2 });
    seed = await seedScale(storage.db, { resources: 50_000, eventsPerResource: 2 });
    cases = await listCases(storage.db, seed);
  }, 120_000);

  afterAll(async () => {
    await storage?.close();
    await scratch?.drop();
  });

  it('seeds a table that keeps the ledger invariants', async () => {
    expect(await scaleInvariantProblems(storage.db)).toEqual([]);
  });

  it('runs every list as a Limit over index scans that stop at the page', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const plan = await explain(storage.db, c.query);
      const problems = planProblems(plan, c.page);
      if (problems.length) failures.push(`${c.name}: ${problems.join('; ')}\n${planSummary(plan)}`);
    }
    expect(cases.length).toBeGreaterThanOrEqual(50);
    expect(failures).toEqual([]);
  });

  it('flags the plans this replaced: an OR cursor and a status list with `in`', async () => {
    const { createdAt, id } = await middleCursorRow(storage.db, seed);
    const orCursor = storage.db
      .selectFrom('resources')
      .selectAll()
      .where((eb) =>
        eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
      )
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(21);
    const statusIn = storage.db
      .selectFrom('resources')
      .selectAll()
      .where('owner_id', '=', seed.bigOwner)
      .where('status', 'in', ['RUNNING', 'STOPPED'])
      .where('provisioner', '=', 'pool')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(21);
    for (const query of [orCursor, statusIn]) {
      expect(planProblems(await explain(storage.db, query), 20)).not.toEqual([]);
    }
  });

  it('pages through one owner, newest first, each row once, with the row-comparison cursor', async () => {
    const owner: Actor = { id: seed.smallOwner, role: 'user' };
    const expected = await storage.db
      .selectFrom('resources')
      .select('id')
      .where('owner_id', '=', seed.smallOwner)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 100; page++) {
      const { rows } = await resourceListQuery(storage.db, owner, { first: 7, ...(after ? { after } : {}) }).execute(
        storage.db,
      );
      seen.push(...rows.slice(0, 7).map((r) => r.id));
      const last = rows[6];
      if (rows.length <= 7 || !last) break;
      after = resourceCursor({ createdAt: last.created_at, id: last.id });
    }
    expect(expected.length).toBeGreaterThan(14);
    expect(seen).toEqual(expected.map((r) => r.id));
  });
});
