/**
 * vitest globalSetup helper: give every test a migrated PGlite dump to load (≈0.3 s) instead of
 * running initdb (≈2–7 s, ~0.8 GB RSS) per test. The dump is the template the built package
 * ships when it is there and current (unzipped once here, so no test pays for the gunzip);
 * otherwise (no build yet, or a stale one) it is made here with initdb + migrate.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openDatabase } from '../storage/database.js';
import { findTemplate } from '../storage/pglite-template.js';

export async function pgliteTemplateSetup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-pglite-'));
  const file = join(dir, 'template.tar');
  const shipped = findTemplate();
  writeFileSync(file, shipped.status === 'ok' ? gunzipSync(readFileSync(shipped.file)) : await freshDump());
  process.env.SLIPWAY_PGLITE_TEMPLATE = file;
  return () => rmSync(dir, { recursive: true, force: true });
}

async function freshDump(): Promise<Buffer> {
  const storage = await openDatabase({ memory: true });
  try {
    const dump = await storage.pglite?.dumpDataDir('none');
    if (!dump) throw new Error('PGlite did not dump its data directory');
    return Buffer.from(await dump.arrayBuffer());
  } finally {
    await storage.close();
  }
}
