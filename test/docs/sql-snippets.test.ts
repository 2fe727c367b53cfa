/**
 * Every ```sql block of the documentation (README and docs/, as the other snippet tests read
 * them) runs on a migrated PostgreSQL with a few thousand seeded resources, each in a
 * transaction that is rolled back. Needs PostgreSQL: fails without it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type SlipwayStorage } from '@slipway/core';
import { createScratchDatabase, type ScratchDatabase } from '@slipway/core/testing/databases';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentationPages, fencedBlocks } from '../support/doc-snippets.js';
import { seedScale } from '../support/scale-seed.js';

const repoRoot = join(import.meta.dirname, '..', '..');

const blocks = documentationPages(repoRoot).flatMap((page) =>
  fencedBlocks(readFileSync(join(repoRoot, page), 'utf8'))
    .filter((b) => b.info.split(/\s+/)[0] === 'sql')
    .map((b) => ({ where: `${page}:${b.line}`, code: b.code })),
);

describe('sql blocks of the docs (PostgreSQL)', () => {
  let scratch: ScratchDatabase;
  let storage: SlipwayStorage;

  beforeAll(async () => {
    scratch = await createScratchDatabase('slipway_docsql');
    storage = await openDatabase({ url: scratch.url, poolSize: 1 });
    await seedScale(storage.db, { resources: 2_000, users: 20, eventsPerResource: 2 });
  }, 60_000);

  afterAll(async () => {
    await storage?.close();
    await scratch?.drop();
  });

  it('has blocks to run', () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it.each(blocks)('$where runs', async ({ code }) => {
    const rollback = new Error('rollback');
    await expect(
      storage.db.transaction().execute(async (trx) => {
        await sql.raw(code).execute(trx);
        throw rollback;
      }),
    ).rejects.toBe(rollback);
  });
});
