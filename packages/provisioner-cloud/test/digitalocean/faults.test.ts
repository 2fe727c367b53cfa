// Faults at the provider: each ends with no duplicate droplet, and a typed error when it fails.
import { isSlipwayError } from '@slipway/core';
import { conformanceContext } from '@slipway/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { DigitalOceanFake } from '../support/digitalocean-fake.js';
import { recordingContext, request, setup } from './helpers.js';

const CREATE = { method: 'POST', path: '/v2/droplets' } as const;
let current: DigitalOceanFake | undefined;

async function fresh(options?: Parameters<typeof setup>[0]) {
  const s = await setup(options);
  current = s.fake;
  return s;
}

afterEach(() => {
  expect(current?.violations ?? []).toEqual([]);
  current = undefined;
});

describe('DigitalOcean faults', () => {
  it('429 with ratelimit-reset/retry-after: the create is repeated (not processed) and builds one droplet', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('rate_limit', { ...CREATE, times: 2, retryAfterSeconds: 1 });
    const req = request();
    await provisioner.allocate(req, conformanceContext());
    expect(fake.count('POST', '/v2/droplets')).toBe(3);
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(1);
  });

  it('429 that does not stop: a retryable typed error carrying retryAfterSeconds, and no droplet', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('rate_limit', { ...CREATE, times: 50, retryAfterSeconds: 7 });
    const req = request();
    const error = await provisioner.allocate(req, conformanceContext()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROVISIONER_FAILED', retryable: true, details: { retryAfterSeconds: 7 } });
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(0);
  });

  it('500 on create: looks the droplet up by tag before creating again; one droplet', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('server_error', { ...CREATE, times: 1 });
    const req = request();
    await provisioner.allocate(req, conformanceContext());
    expect(fake.count('POST', '/v2/droplets')).toBe(2);
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(1);
  });

  it('500s that do not stop: a retryable typed error with a safe message; the provider text only in the log', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('server_error', { times: 200 });
    const req = request();
    const ctx = recordingContext();
    const error = await provisioner.allocate(req, ctx).catch((e: unknown) => e);
    expect(isSlipwayError(error, 'PROVISIONER_FAILED')).toBe(true);
    expect(error).toMatchObject({ retryable: true });
    expect(String(error)).not.toContain('Unexpected server-side error');
    expect(JSON.stringify(ctx.lines)).toContain('Unexpected server-side error');
    expect(JSON.stringify(ctx.lines) + String(error)).not.toContain(fake.token);
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(0);
  });

  it('a create answered after the time-out: the droplet exists, is found by tag, not built twice', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('slow', { ...CREATE, delayMs: 600 });
    const req = request();
    const allocation = await provisioner.allocate(req, conformanceContext());
    expect(fake.count('POST', '/v2/droplets')).toBe(1);
    expect(fake.dropletsOf(req.resourceId).map((d) => String(d.id))).toEqual([allocation.externalId]);
  });

  it('a provider that never answers in time: a retryable typed error, no duplicate', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('slow', { times: 100, delayMs: 400 });
    const req = request();
    const error = await provisioner.allocate(req, conformanceContext()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROVISIONER_FAILED', retryable: true });
    expect(fake.dropletsOf(req.resourceId).length).toBeLessThanOrEqual(1);
  });

  it('malformed JSON on create: the outcome is unknown, the lookup finds the droplet; one droplet', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('malformed_json', CREATE);
    const req = request();
    await provisioner.allocate(req, conformanceContext());
    expect(fake.count('POST', '/v2/droplets')).toBe(1);
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(1);
  });

  it('malformed JSON on reads is retried like a dropped connection', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('malformed_json', { method: 'GET', times: 2 });
    const req = request();
    await provisioner.allocate(req, conformanceContext());
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(1);
  });

  it('the droplet limit (422) is CAPACITY_EXHAUSTED, not retried, no droplet', async () => {
    const { fake, provisioner } = await fresh();
    fake.dropletLimit = 0;
    const req = request();
    await expect(provisioner.allocate(req, conformanceContext())).rejects.toMatchObject({
      code: 'CAPACITY_EXHAUSTED',
      retryable: false,
      details: { provider: 'digitalocean' },
    });
    expect(fake.count('POST', '/v2/droplets')).toBe(1);
    expect(fake.droplets.size).toBe(0);
  });

  it('a lost create reply (stored, connection dropped): exactly one droplet after the retry', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('lost_reply', CREATE);
    const req = request();
    const allocation = await provisioner.allocate(req, conformanceContext());
    expect(fake.count('POST', '/v2/droplets')).toBe(1);
    expect(fake.dropletsOf(req.resourceId).map((d) => String(d.id))).toEqual([allocation.externalId]);
    // A retry of the whole allocate (the core's, after a crash) reuses it too.
    expect((await provisioner.allocate(req, conformanceContext())).externalId).toBe(allocation.externalId);
    expect(fake.count('POST', '/v2/droplets')).toBe(1);
  });

  it('lost replies on every create: gives up with a retryable error after a bounded number of creates, one droplet', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('lost_reply', { ...CREATE, times: 10 });
    // The first lookup (before any create) answers; every one after the lost reply is lost too.
    fake.inject('lost_reply', { method: 'GET', path: '/v2/droplets', skip: 1, times: 100 });
    const req = request();
    const error = await provisioner.allocate(req, conformanceContext()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROVISIONER_FAILED', retryable: true });
    expect(fake.count('POST', '/v2/droplets')).toBe(1);
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(1);
  });

  it('a delete refused with 422 "pending event" is a retryable error; the retry deletes it', async () => {
    const { fake, provisioner } = await fresh();
    const allocation = await provisioner.allocate(request(), conformanceContext());
    fake.inject('pending_event', { method: 'DELETE' });
    await expect(provisioner.release(allocation, conformanceContext())).rejects.toMatchObject({
      code: 'PROVISIONER_FAILED',
      retryable: true,
      details: { reason: 'pending-event' },
    });
    expect(fake.droplets.size).toBe(1);
    await provisioner.release(allocation, conformanceContext());
    expect((await provisioner.status(allocation, conformanceContext())).state).toBe('gone');
  });

  it('a wrong token: PROVISIONER_FAILED about credentials, not retryable, token nowhere', async () => {
    const { fake, provisioner } = await fresh({ config: { token: 'dop_v1_not_the_right_one' } });
    const ctx = recordingContext();
    const error = await provisioner.allocate(request(), ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROVISIONER_FAILED', retryable: false });
    expect(String(error)).toMatch(/credentials/);
    expect(JSON.stringify(ctx.lines) + JSON.stringify(error) + String(error)).not.toContain('not_the_right_one');
    expect(fake.droplets.size).toBe(0);
  });
});
