import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, openDatabase, type SlipwayStorage } from '../src/index.js';
import { buildPgliteTemplate } from '../src/storage/build-pglite-template.js';
import {
  currentFingerprint,
  findTemplate,
  fingerprintFile,
  type TemplateFingerprint,
  writeTemplate,
} from '../src/storage/pglite-template.js';
import { createTestStorage } from '../src/testing/index.js';

/** A small template made here: an unmigrated database holding one marker table named `marker`. */
async function makeTemplate(file: string, marker: string): Promise<void> {
  const storage = await createTestStorage('pglite');
  try {
    // The test template is migrated already: empty it, so the load must be followed by a migrate.
    await sql`drop schema public cascade`.execute(storage.db);
    await sql`create schema public`.execute(storage.db);
    await sql`create table ${sql.id(marker)} (note text)`.execute(storage.db);
    const dump = await storage.pglite?.dumpDataDir('gzip');
    if (!dump) throw new Error('no dump');
    await writeTemplate(file, dump);
  } finally {
    await storage.close();
  }
}

const tableNames = async (storage: SlipwayStorage) =>
  (
    await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'public'`.execute(storage.db)
  ).rows.map((r) => r.tablename);

const appliedMigrations = async (storage: SlipwayStorage) =>
  (await sql<{ name: string }>`select name from slipway_migrations order by name`.execute(storage.db)).rows.map(
    (r) => r.name,
  );

describe('PGlite data directory from a template', () => {
  let work: string;
  let template: string;
  let otherTemplate: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'slipway-template-test-'));
    template = join(work, 'first.tar.gz');
    otherTemplate = join(work, 'second.tar.gz');
    await makeTemplate(template, 'from_first_template');
    await makeTemplate(otherTemplate, 'from_second_template');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('loads the template into a new directory, migrates it, and never loads over an existing one', async () => {
    const dataDir = join(work, 'data');
    const first = await openDatabase({ dataDir, template });
    try {
      expect(await tableNames(first)).toContain('from_first_template');
      expect(await appliedMigrations(first)).toEqual(Object.keys(MIGRATIONS));
      await sql`insert into from_first_template values ('kept')`.execute(first.db);
    } finally {
      await first.close();
    }

    const reopened = await openDatabase({ dataDir, template: otherTemplate });
    try {
      expect(await tableNames(reopened)).not.toContain('from_second_template');
      const notes = await sql<{ note: string }>`select note from from_first_template`.execute(reopened.db);
      expect(notes.rows).toEqual([{ note: 'kept' }]);
    } finally {
      await reopened.close();
    }

    // A start killed while unpacking leaves the marker: the half-made directory is made again.
    writeFileSync(join(dataDir, 'pgdata.initializing'), '');
    const remade = await openDatabase({ dataDir, template: otherTemplate });
    try {
      expect(await tableNames(remade)).toContain('from_second_template');
      expect(await tableNames(remade)).not.toContain('from_first_template');
    } finally {
      await remade.close();
    }
  });

  it('ignores a template whose fingerprint is not this PGlite and these migrations', () => {
    expect(findTemplate(template)).toEqual({ status: 'ok', file: template });
    const fingerprint = fingerprintFile(template);
    const saved = readFileSync(fingerprint, 'utf8');
    const write = (f: Partial<TemplateFingerprint>) =>
      writeFileSync(fingerprint, JSON.stringify({ ...currentFingerprint(), ...f }));
    try {
      write({ pglite: '0.0.1' });
      expect(findTemplate(template)).toMatchObject({ status: 'stale', reason: expect.stringContaining('0.0.1') });
      write({ migrations: Object.keys(MIGRATIONS).slice(0, -1) });
      expect(findTemplate(template).status).toBe('stale');
      rmSync(fingerprint);
      expect(findTemplate(template).status).toBe('stale');
      expect(findTemplate(join(work, 'absent.tar.gz')).status).toBe('missing');
    } finally {
      writeFileSync(fingerprint, saved);
    }
  });

  it('build:assets leaves a current template alone', async () => {
    expect(await buildPgliteTemplate(template)).toBe('current');
  });
});
