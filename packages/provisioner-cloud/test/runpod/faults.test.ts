// Provider faults during allocate and release: every test ends with at most one pod for the
// resource and, when the call fails, a typed SlipwayError whose message carries no provider text.
import { isSlipwayError, type SlipwayError } from '@slipway/core';
import { baseRequest } from '@slipway/core/testing';
import { describe, expect, it } from 'vitest';
import { type RunpodConfigInput, runpodProvisioner } from '../../src/runpod/index.js';
import { CAPACITY_MESSAGES, type RunpodFake, type RunpodFakeOptions } from '../support/runpod-fake.js';
import { loggingContext, testConfig, useRunpodFake } from './helpers.js';

const rp = useRunpodFake({ readyAfterPolls: 1 });
const CREATE = 'podFindAndDeployOnDemand';
/** A per-request time-out short enough for the delay faults; the other tests keep a lenient one. */
const SHORT_TIMEOUT = { policy: { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 20, requestTimeoutMs: 200 } };

async function failure(promise: Promise<unknown>): Promise<SlipwayError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSlipwayError(error)) throw new Error(`expected a SlipwayError, got ${String(error)}`);
  return error;
}

/** Allocate one resource against a fresh fake; `setup` injects the faults. */
function scenario(
  setup: (fake: RunpodFake) => void,
  overrides: Partial<RunpodConfigInput> = {},
  fakeOptions: RunpodFakeOptions = { readyAfterPolls: 1 },
) {
  const fake = rp.fresh(fakeOptions);
  setup(fake);
  const provisioner = runpodProvisioner(testConfig(fake, overrides));
  const req = baseRequest({ kind: 'pod' });
  const ctx = loggingContext();
  const podsOfResource = () => fake.store.created.filter((p) => p.name === `slipway-${req.resourceId}`);
  const noSecrets = () => {
    expect(ctx.lines.join('\n')).not.toContain(fake.apiKey);
  };
  return { fake, provisioner, req, ctx, podsOfResource, noSecrets, allocate: () => provisioner.allocate(req, ctx) };
}

describe('runpod faults', () => {
  it('429 on create: waits as Retry-After asks, then creates once', async () => {
    const s = scenario((f) => f.fail(CREATE, { kind: 'rateLimit', retryAfterSeconds: 1 }), {
      policy: { initialDelayMs: 1, maxDelayMs: 2_000, requestTimeoutMs: 2_000, breakerThreshold: 100 },
    });
    const started = performance.now();
    const allocation = await s.allocate();
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(s.fake.requests.filter((r) => r.field === CREATE).map((r) => r.status)).toEqual([429, 200]);
    expect(s.podsOfResource().map((p) => p.id)).toEqual([allocation.externalId]);
  });

  it('429 that does not stop: a retryable PROVISIONER_FAILED with retryAfterSeconds, nothing created', async () => {
    const s = scenario((f) => f.fail('myself', { kind: 'rateLimit', retryAfterSeconds: 0 }, 10));
    const error = await failure(s.allocate());
    expect(error).toMatchObject({ code: 'PROVISIONER_FAILED', retryable: true });
    expect(error.details).toMatchObject({ provider: 'runpod', retryAfterSeconds: 0 });
    expect(error.message).toMatch(/rate limiting/);
    expect(s.fake.count(CREATE)).toBe(0);
    s.noSecrets();
  });

  it('500s on reads are retried', async () => {
    const s = scenario((f) =>
      f.fail('myself', { kind: 'http', status: 502 }, 2).fail('pod', { kind: 'http', status: 500 }),
    );
    await s.allocate();
    expect(s.podsOfResource()).toHaveLength(1);
  });

  it('500 on create: looked up by name before another create; one pod', async () => {
    const s = scenario((f) => f.fail(CREATE, { kind: 'http', status: 503 }));
    await s.allocate();
    const fields = s.fake.requests.map((r) => r.field);
    expect(fields.slice(0, 4)).toEqual(['myself', CREATE, 'myself', CREATE]);
    expect(s.podsOfResource()).toHaveLength(1);
  });

  it('500 on every create: a retryable PROVISIONER_FAILED after the configured attempts, no pod', async () => {
    const s = scenario((f) => f.fail(CREATE, { kind: 'http', status: 500 }, 5));
    const error = await failure(s.allocate());
    expect(error).toMatchObject({ code: 'PROVISIONER_FAILED', retryable: true });
    expect(error.message).not.toMatch(/upstream error/);
    expect(s.fake.count(CREATE)).toBe(3);
    expect(s.podsOfResource()).toHaveLength(0);
    expect(s.ctx.lines.join('\n')).toMatch(/upstream error/);
    s.noSecrets();
  });

  it('a create that times out (not executed) is created again after a look-up; one pod', async () => {
    const s = scenario((f) => f.fail(CREATE, { kind: 'delay', ms: 400 }), SHORT_TIMEOUT);
    await s.allocate();
    expect(s.fake.count(CREATE)).toBe(2);
    expect(s.podsOfResource()).toHaveLength(1);
  });

  it('a poll that times out is retried', async () => {
    const s = scenario((f) => f.fail('pod', { kind: 'delay', ms: 400 }), SHORT_TIMEOUT);
    const allocation = await s.allocate();
    expect(allocation.sshPort).toBeGreaterThan(0);
    expect(s.podsOfResource()).toHaveLength(1);
  });

  it('malformed JSON after a create that happened: found by name, not created again', async () => {
    const s = scenario((f) => f.fail(CREATE, { kind: 'malformed' }));
    const allocation = await s.allocate();
    expect(s.fake.count(CREATE)).toBe(1);
    expect(s.podsOfResource().map((p) => p.id)).toEqual([allocation.externalId]);
  });

  it('malformed JSON on every read: a retryable PROVISIONER_FAILED', async () => {
    const s = scenario((f) => f.fail('myself', { kind: 'malformed' }, 10));
    expect(await failure(s.allocate())).toMatchObject({ code: 'PROVISIONER_FAILED', retryable: true });
    expect(s.fake.count(CREATE)).toBe(0);
  });

  it('a lost create reply (pod stored, connection dropped): exactly one pod', async () => {
    const s = scenario((f) => f.fail(CREATE, { kind: 'lostReply' }));
    const allocation = await s.allocate();
    expect(s.fake.count(CREATE)).toBe(1);
    expect(s.podsOfResource().map((p) => p.id)).toEqual([allocation.externalId]);
  });

  it('INTERNAL_SERVER_ERROR in errors[] on create: looked up, then created once', async () => {
    const s = scenario((f) => f.fail(CREATE, { kind: 'internal' }));
    await s.allocate();
    expect(s.fake.count(CREATE)).toBe(2);
    expect(s.podsOfResource()).toHaveLength(1);
  });

  it.each(CAPACITY_MESSAGES)('no capacity (%s): CAPACITY_EXHAUSTED, no pod, no second create', async (message) => {
    const s = scenario((f) => f.noCapacityOnNextCreate(message));
    const error = await failure(s.allocate());
    expect(error.code).toBe('CAPACITY_EXHAUSTED');
    expect(error.message).not.toMatch(/no longer/);
    expect(s.fake.count(CREATE)).toBe(1);
    expect(s.podsOfResource()).toHaveLength(0);
    expect(s.ctx.lines.join('\n')).toMatch(/no longer any instances/);
  });

  it('a bad API key: PROVISIONER_FAILED at once, the key in no error or log', async () => {
    const s = scenario(() => {}, { apiKey: 'rp_wrong_key_do_not_log' });
    const error = await failure(s.allocate());
    expect(error.code).toBe('PROVISIONER_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/credentials/);
    expect(s.fake.requests).toHaveLength(1);
    expect(JSON.stringify({ m: error.message, d: error.details, l: s.ctx.lines })).not.toContain('rp_wrong_key');
  });

  it('a pod that never exposes SSH: PROVISIONER_TIMEOUT, and release by resource removes it', async () => {
    const s = scenario(
      () => {},
      {
        deadlines: { readyTimeoutMs: 50, pollIntervalMs: 5, createAttempts: 3, createRetryDelayMs: 1 },
        gpuTypes: [{ id: 'NVIDIA SLOW', creditsPerHour: 10 }],
      },
      { readyAfterPollsFor: { 'NVIDIA SLOW': 10_000 } },
    );
    expect(await failure(s.allocate())).toMatchObject({ code: 'PROVISIONER_TIMEOUT' });
    expect(s.fake.pods).toHaveLength(1);
    await s.provisioner.release({ resourceId: s.req.resourceId, externalId: '' }, s.ctx);
    expect(s.fake.pods).toHaveLength(0);
  });

  it('terminate of an unknown pod succeeds ("pod not found to terminate")', async () => {
    const s = scenario(() => {});
    await expect(
      s.provisioner.release({ resourceId: s.req.resourceId, externalId: 'zzzzzzzzzzzzzz' }, s.ctx),
    ).resolves.toBeUndefined();
    expect(s.fake.requests.map((r) => [r.field, r.status])).toEqual([
      ['myself', 200],
      ['podTerminate', 200],
    ]);
  });

  it('release also removes a duplicate that a create finished after its client gave up', async () => {
    const s = scenario(() => {});
    const allocation = await s.allocate();
    s.fake.store.create({ name: `slipway-${s.req.resourceId}`, imageName: 'late' }, null);
    await s.provisioner.release(allocation, s.ctx);
    expect(s.fake.pods).toHaveLength(0);
  });

  it('terminate twice: the second is already gone', async () => {
    const s = scenario(() => {});
    const allocation = await s.allocate();
    await s.provisioner.release(allocation, s.ctx);
    await s.provisioner.release(allocation, s.ctx);
    // The second terminate is answered "pod not found to terminate" (HTTP 200), which counts as done.
    expect(s.fake.count('podTerminate')).toBe(2);
    expect((await s.provisioner.status(allocation, s.ctx)).state).toBe('gone');
  });
});
