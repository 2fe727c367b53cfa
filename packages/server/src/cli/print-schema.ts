/** `slipway print-schema`: write the SDL to packages/server/schema.graphql (sorted, so diffs stay small). */
import { writeFileSync } from 'node:fs';
import { printSchemaSdl, SCHEMA_FILE } from '../schema/index.js';

export function printSchemaFile(): void {
  writeFileSync(SCHEMA_FILE, printSchemaSdl());
  process.stdout.write(`Wrote ${SCHEMA_FILE}\n`);
}
