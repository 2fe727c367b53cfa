/** docs/limits.md and docs/api-limits.md show the server's request limits with the defaults config.ts applies. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUESTS_PER_MINUTE, loadConfig, QUERY_LIMIT_DEFAULTS } from '../src/config.js';
import { TEST_SECRET } from './helpers.js';

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

const DEFAULTS: Record<string, number> = {
  SLIPWAY_MAX_BODY_BYTES: QUERY_LIMIT_DEFAULTS.maxBodyBytes,
  SLIPWAY_MAX_QUERY_TOKENS: QUERY_LIMIT_DEFAULTS.maxTokens,
  SLIPWAY_MAX_QUERY_DEPTH: QUERY_LIMIT_DEFAULTS.maxDepth,
  SLIPWAY_MAX_QUERY_ALIASES: QUERY_LIMIT_DEFAULTS.maxAliases,
  SLIPWAY_MAX_QUERY_DIRECTIVES: QUERY_LIMIT_DEFAULTS.maxDirectives,
  SLIPWAY_MAX_QUERY_COST: QUERY_LIMIT_DEFAULTS.maxCost,
  SLIPWAY_RATE_LIMIT_REQUESTS_PER_MINUTE: DEFAULT_REQUESTS_PER_MINUTE,
};

/** `VARIABLE` → the first backticked number after it on its table row, for every row naming one of DEFAULTS. */
function documentedDefaults(page: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const line of page.split('\n')) {
    const row = /^\|.*?`(SLIPWAY_[A-Z_]+)`(.*)$/.exec(line);
    const value = row?.[2] ? /`(\d+)`/.exec(row[2])?.[1] : undefined;
    if (row?.[1] && value && row[1] in DEFAULTS) found[row[1]] = Number(value);
  }
  return found;
}

describe('request limit docs', () => {
  it.each(['docs/limits.md', 'docs/api-limits.md', 'docs/configuration.md'])('%s shows every default', (path) => {
    expect(documentedDefaults(read(path))).toEqual(DEFAULTS);
  });

  it('the defaults are what loadConfig applies', () => {
    const config = loadConfig({ SLIPWAY_JWT_SECRET: TEST_SECRET });
    expect(config.queryLimits).toEqual(QUERY_LIMIT_DEFAULTS);
    expect(config.rateLimitRequestsPerMinute).toBe(DEFAULT_REQUESTS_PER_MINUTE);
  });

  it('api-limits.md is linked from the README and graphql-api.md', () => {
    expect(read('README.md')).toContain('(docs/api-limits.md)');
    expect(read('docs/graphql-api.md')).toContain('(api-limits.md)');
  });
});
