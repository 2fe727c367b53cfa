import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

const conditions = ['@slipway/source', ...defaultServerConditions];

export default defineConfig({
  ssr: { resolve: { conditions } }, // test files (node environment)
  environments: { __vitest__: { resolve: { conditions } } }, // globalSetup files
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    setupFiles: ['reflect-metadata'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: PGlite instances are memory-hungry, keep parallelism modest.
    maxWorkers: 2,
  },
});
