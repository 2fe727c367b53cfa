import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '@slipway/core';
import { describe, expect, it } from 'vitest';
import { printSchemaSdl, SCHEMA_FILE } from '../src/schema/index.js';

describe('schema', () => {
  it('matches the committed packages/server/schema.graphql', () => {
    let committed = '';
    try {
      committed = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {
      // A missing file is just out of date.
    }
    if (committed !== printSchemaSdl()) {
      throw new Error('packages/server/schema.graphql is out of date: run `npm run schema` and commit the result');
    }
  });

  it('has every core error code in the ErrorCode enum', () => {
    const sdl = printSchemaSdl();
    for (const code of Object.keys(ERROR_CODES)) expect(sdl).toContain(`  ${code}\n`);
  });
});
