/** Test harness: an app on a fresh in-memory PGlite, requests through yoga.fetch (no port). */
import type { Provisioner } from '@slipway/core';
import { createTestStorage } from '@slipway/core/testing';
import { type App, createApp } from '../src/app.js';
import { mintToken } from '../src/auth.js';
import { loadConfig, type ServerConfig } from '../src/config.js';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface TestApp {
  app: App;
  config: ServerConfig;
  /** Run a GraphQL request as `token` (none when omitted). */
  gql: <T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ) => Promise<GqlResult<T>>;
  tokenFor: (userId: string, role?: 'user' | 'admin') => Promise<string>;
  close: () => Promise<void>;
}

export interface GqlResult<T> {
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

export async function createTestApp(
  opts: { provisioners?: Provisioner[]; start?: boolean; env?: Record<string, string>; dashboardDir?: string } = {},
): Promise<TestApp> {
  const config = loadConfig({
    SLIPWAY_JWT_SECRET: TEST_SECRET,
    SLIPWAY_DATA_DIR: '/nonexistent/never-used',
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const storage = await createTestStorage('pglite');
  const app = await createApp(config, {
    database: storage,
    provisioners: opts.provisioners ?? [],
    ...(opts.start === false ? { start: false } : {}),
    ...(opts.dashboardDir ? { dashboardDir: opts.dashboardDir } : {}),
  });
  return {
    app,
    config,
    async gql(query, variables, token) {
      const res = await app.yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GqlResult<never>;
    },
    tokenFor: (userId, role = 'user') => mintToken({ secret: TEST_SECRET, userId, role }),
    async close() {
      await app.close();
      await storage.close();
    },
  };
}

export const SPEC = { vcpu: 2, memoryMb: 1024, diskGb: 20 };

/** Selections for a result union: every error member implements `Error`; add the specific ones a union has. */
export const ERROR_FIELDS = '__typename ... on Error { code message }';
export const VALIDATION_FIELDS = '... on ValidationError { field issues { field message } }';
export const CREDITS_FIELDS = '... on InsufficientCreditsError { required available }';

export const RESOURCE_FIELDS =
  'id name kind provisioner status cost ownerId ip externalId metadata labels spec { vcpu memoryMb diskGb }';
