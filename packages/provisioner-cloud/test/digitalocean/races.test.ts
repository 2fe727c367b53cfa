// Review regressions: duplicates across processes, answers that must not read as "gone", aborts
// during a retry-after wait, and a token echoed back by whatever answers.
import { conformanceContext } from '@slipway/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { digitalOceanProvisioner } from '../../src/digitalocean/index.js';
import type { DigitalOceanFake } from '../support/digitalocean-fake.js';
import { recordingContext, request, setup, testConfig } from './helpers.js';

let current: DigitalOceanFake | undefined;
afterEach(() => {
  expect(current?.violations ?? []).toEqual([]);
  current = undefined;
});

async function fresh(options?: Parameters<typeof setup>[0]) {
  const s = await setup(options);
  current = s.fake;
  return s;
}

/** The fake's fetch, with GET answers rewritten to `body` (200) when `when` holds. */
function rewriting(fake: DigitalOceanFake, when: (url: URL) => boolean, body: string): typeof fetch {
  return async (input, init) => {
    const req = input instanceof Request ? input : new Request(input, init);
    const response = await fake.fetch(req);
    if (req.method !== 'GET' || !when(new URL(req.url))) return response;
    return new Response(body, { status: 200, headers: response.headers });
  };
}

describe('DigitalOcean across processes', () => {
  it('two replicas allocating one resource end with one droplet and the same external id', async () => {
    const { fake } = await fresh();
    const replicas = [1, 2].map(() => digitalOceanProvisioner(testConfig(fake), { fetch: fake.fetch }));
    const req = request();
    const [a, b] = await Promise.all(replicas.map((p) => p.allocate(req, conformanceContext())));
    expect(b?.externalId).toBe(a?.externalId);
    expect(fake.dropletsOf(req.resourceId).map((d) => String(d.id))).toEqual([a?.externalId]);
  });

  it('a create DigitalOcean processes after the time-out: the late droplet is deleted by the release', async () => {
    const { fake, provisioner } = await fresh();
    fake.inject('stall', { method: 'POST', path: '/v2/droplets', delayMs: 400 });
    const req = request();
    const allocation = await provisioner.allocate(req, conformanceContext());
    await new Promise((r) => setTimeout(r, 500)); // the stalled create lands: a second droplet
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(2);
    await provisioner.release(allocation, conformanceContext());
    expect(fake.dropletsOf(req.resourceId)).toEqual([]);
  });
});

describe('DigitalOcean answers that do not say gone', () => {
  it('a 200 without the droplet is a retryable failure, not gone', async () => {
    const { fake, provisioner } = await fresh();
    const allocation = await provisioner.allocate(request(), conformanceContext());
    const broken = digitalOceanProvisioner(testConfig(fake), {
      fetch: rewriting(fake, (u) => /^\/v2\/droplets\/\d+$/.test(u.pathname), '{}'),
    });
    await expect(broken.status(allocation, conformanceContext())).rejects.toMatchObject({ retryable: true });
  });

  it('a list without `droplets` fails the release instead of reporting nothing to delete', async () => {
    const { fake, provisioner } = await fresh();
    const req = request();
    const allocation = await provisioner.allocate(req, conformanceContext());
    const broken = digitalOceanProvisioner(testConfig(fake), {
      fetch: rewriting(fake, (u) => u.pathname === '/v2/droplets', '{"links":{},"meta":{"total":0}}'),
    });
    const byTag = { ...allocation, externalId: '' };
    await expect(broken.release(byTag, conformanceContext())).rejects.toMatchObject({ retryable: true });
    await expect(broken.status(byTag, conformanceContext())).rejects.toMatchObject({ retryable: true });
    await expect(broken.inventory(conformanceContext())).rejects.toMatchObject({ retryable: true });
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(1);
  });
});

describe('DigitalOcean policy edges', () => {
  it("the caller's abort ends a retry-after wait at once, and nothing more is sent", async () => {
    const { fake, provisioner } = await fresh({ config: { policy: { maxDelayMs: 30_000, initialDelayMs: 1 } } });
    const allocation = await provisioner.allocate(request(), conformanceContext());
    fake.inject('rate_limit', { method: 'GET', times: 10, retryAfterSeconds: 20 });
    const before = fake.requests.length;
    const started = Date.now();
    await expect(provisioner.status(allocation, conformanceContext(AbortSignal.timeout(100)))).rejects.toBeDefined();
    expect(Date.now() - started).toBeLessThan(2_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.requests.length - before).toBe(1);
  });

  it('an answer that echoes the Authorization header never puts the token in a log or an error', async () => {
    const { fake } = await fresh();
    const echo: typeof fetch = async (input, init) => {
      const req = input instanceof Request ? input : new Request(input, init);
      return new Response(`<pre>${req.headers.get('authorization')}</pre>`, { status: 400 });
    };
    const provisioner = digitalOceanProvisioner(testConfig(fake), { fetch: echo });
    const ctx = recordingContext();
    const error = await provisioner.allocate(request(), ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROVISIONER_FAILED' });
    expect(JSON.stringify(ctx.lines)).toContain('[redacted]');
    expect(JSON.stringify(ctx.lines) + JSON.stringify(error) + String(error)).not.toContain(fake.token);
  });
});

describe('DigitalOcean lookups by tag', () => {
  it('an archived droplet with the resource tag does not hide the live one (status, power)', async () => {
    const { fake, provisioner } = await fresh();
    const req = request();
    const allocation = await provisioner.allocate(req, conformanceContext());
    const [live] = fake.dropletsOf(req.resourceId);
    if (!live) throw new Error('no droplet');
    // An older droplet of the same resource, archived: it sorts first by id.
    const old = { ...live, id: live.id - 1000, status: 'archive' as const };
    fake.droplets.set(old.id, old);
    const byTag = { ...allocation, externalId: '' };
    expect((await provisioner.status(byTag, conformanceContext())).state).toBe('running');
    await provisioner.stop(byTag, conformanceContext());
    expect(live.status).toBe('off');
  });
});
