/** `slipway migrate`: open the configured database, run pending migrations, exit. */
import { openDatabase } from '@slipway/core';
import type { ServerConfig } from '../config.js';

export async function migrate(config: ServerConfig): Promise<void> {
  const storage = await openDatabase(config.database);
  await storage.close();
  const where = 'url' in config.database ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.dataDir}`;
  process.stdout.write(`Database migrated: ${where}\n`);
}
