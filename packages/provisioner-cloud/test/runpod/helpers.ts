// Shared set-up of the RunPod tests: the msw server with the stateful fake, and a config with small deadlines.
import { conformanceContext } from '@slipway/core/testing';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { RunpodConfigInput } from '../../src/runpod/index.js';
import { RunpodFake, type RunpodFakeOptions } from '../support/runpod-fake.js';

export const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx3v9xq6bYp0S3cU4aS5fYmQ1f2x6l0Gm2o1r7QwZ5h user@laptop';

/** One msw server per test file; `fresh()` swaps in a new fake (call it in beforeEach or a test). */
export function useRunpodFake(options: RunpodFakeOptions = {}) {
  const server = setupServer();
  let current = new RunpodFake(options);
  server.use(current.handler);
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => server.resetHandlers(current.handler));
  afterAll(() => server.close());
  return {
    get fake() {
      return current;
    },
    fresh(opts: RunpodFakeOptions = options): RunpodFake {
      current = new RunpodFake(opts);
      server.resetHandlers(current.handler);
      return current;
    },
  };
}

export function testConfig(fake: RunpodFake, overrides: Partial<RunpodConfigInput> = {}): RunpodConfigInput {
  return {
    apiKey: fake.apiKey,
    baseUrl: fake.url,
    images: { pytorch: 'runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04', base: 'runpod/base:0.6.2' },
    deadlines: { readyTimeoutMs: 3_000, pollIntervalMs: 5, createAttempts: 3, createRetryDelayMs: 1 },
    policy: { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 20, requestTimeoutMs: 2_000, breakerThreshold: 100 },
    ...overrides,
  };
}

/** A context that records what the provisioner logged, to check no secret reaches a log. */
export function loggingContext(signal?: AbortSignal) {
  const lines: string[] = [];
  const logger = {
    debug: (msg: string, data?: Record<string, unknown>) => lines.push(`${msg} ${JSON.stringify(data ?? {})}`),
    info: (msg: string, data?: Record<string, unknown>) => lines.push(`${msg} ${JSON.stringify(data ?? {})}`),
    warn: (msg: string, data?: Record<string, unknown>) => lines.push(`${msg} ${JSON.stringify(data ?? {})}`),
    error: (msg: string, data?: Record<string, unknown>) => lines.push(`${msg} ${JSON.stringify(data ?? {})}`),
    child: () => logger,
  };
  return { ...conformanceContext(signal), logger, lines };
}
