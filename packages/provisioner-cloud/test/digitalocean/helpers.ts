// Shared set-up of the DigitalOcean tests: a fake, and a provisioner wired to it with short deadlines.
import type { AllocationRequest } from '@slipway/core';
import { baseRequest, conformanceContext } from '@slipway/core/testing';
import {
  type DigitalOceanConfigInput,
  type DigitalOceanOptions,
  digitalOceanProvisioner,
} from '../../src/digitalocean/index.js';
import { createDigitalOceanFake, type DigitalOceanFake, type FakeOptions } from '../support/digitalocean-fake.js';

/** Fast deadlines and a policy that retries quickly (the fake's retry-after is capped by maxDelayMs). */
export function testConfig(
  fake: DigitalOceanFake,
  overrides: Partial<DigitalOceanConfigInput> = {},
): DigitalOceanConfigInput {
  return {
    token: fake.token,
    baseUrl: fake.baseUrl,
    deadlines: { activeMs: 2_000, shutdownMs: 100, actionMs: 2_000, pollIntervalMs: 2 },
    policy: { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 20, requestTimeoutMs: 150, breakerThreshold: 1_000 },
    ...overrides,
  };
}

export async function setup(options: { fake?: FakeOptions; config?: Partial<DigitalOceanConfigInput> } = {}) {
  const fake = await createDigitalOceanFake(options.fake);
  const provisioner = digitalOceanProvisioner(testConfig(fake, options.config), { fetch: fake.fetch });
  return { fake, provisioner };
}

export const request = (
  overrides: Partial<AllocationRequest<DigitalOceanOptions>> = {},
): AllocationRequest<DigitalOceanOptions> => ({ ...baseRequest(), options: {}, ...overrides });

/** A context whose logger records what it was given (to prove secrets and provider text stay in logs). */
export function recordingContext(signal?: AbortSignal) {
  const lines: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
  const logger = {
    debug: (msg: string, data?: Record<string, unknown>) =>
      lines.push({ level: 'debug', msg, ...(data ? { data } : {}) }),
    info: (msg: string, data?: Record<string, unknown>) =>
      lines.push({ level: 'info', msg, ...(data ? { data } : {}) }),
    warn: (msg: string, data?: Record<string, unknown>) =>
      lines.push({ level: 'warn', msg, ...(data ? { data } : {}) }),
    error: (msg: string, data?: Record<string, unknown>) =>
      lines.push({ level: 'error', msg, ...(data ? { data } : {}) }),
    child: () => logger,
  };
  return { ...conformanceContext(signal), logger, lines };
}
