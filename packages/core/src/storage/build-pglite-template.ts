/** Writes the shipped PGlite template (`npm run build:assets -w @slipway/core`, after tsc). */
import { openDatabase } from './database.js';
import { findTemplate, writeTemplate } from './pglite-template.js';

/**
 * initdb + every migration in memory, dumped with gzip (≈4.5 MiB) to `file`. Skipped when a
 * template with the current fingerprint is there already, unless `force`.
 */
export async function buildPgliteTemplate(
  file: string,
  opts: { force?: boolean } = {},
): Promise<'written' | 'current'> {
  if (!opts.force && findTemplate(file).status === 'ok') return 'current';
  const storage = await openDatabase({ memory: true });
  try {
    const dump = await storage.pglite?.dumpDataDir('gzip');
    if (!dump) throw new Error('PGlite did not dump its data directory');
    await writeTemplate(file, dump);
  } finally {
    await storage.close();
  }
  return 'written';
}
