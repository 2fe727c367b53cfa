import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Tests run the workspace packages from src: '@slipway/source' is the export condition that points at src
// (published consumers get dist). Node-environment test files resolve through `ssr`; globalSetup files load in
// vitest's internal `__vitest__` environment, which needs the condition too.
const conditions = ['@slipway/source', ...defaultServerConditions];

export default defineConfig({
  ssr: { resolve: { conditions } },
  environments: { __vitest__: { resolve: { conditions } } },
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
