// The fake over a real loopback HTTP server (what a server subprocess talks to in a crash test).
import { conformanceContext } from '@slipway/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { digitalOceanProvisioner } from '../../src/digitalocean/index.js';
import { createDigitalOceanFake } from '../support/digitalocean-fake.js';
import { type FakeProviderServer, startFakeProviderServer } from '../support/fake-provider-server.js';
import { request, testConfig } from './helpers.js';

let server: FakeProviderServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function overHttp() {
  const fake = await createDigitalOceanFake();
  server = await startFakeProviderServer(fake.handlers);
  // The global fetch, a real socket: no injected fetch.
  const provisioner = digitalOceanProvisioner(testConfig(fake, { baseUrl: server.url }));
  return { fake, server, provisioner };
}

describe('fake provider server', () => {
  it('serves the fake over loopback HTTP: allocate, status, release', async () => {
    const { fake, provisioner } = await overHttp();
    const allocation = await provisioner.allocate(request(), conformanceContext());
    expect((await provisioner.status(allocation, conformanceContext())).state).toBe('running');
    await provisioner.release(allocation, conformanceContext());
    expect(fake.droplets.size).toBe(0);
    expect(fake.violations).toEqual([]);
  });

  it('holds a create reply (the droplet already stored) until released', async () => {
    const { fake, server, provisioner } = await overHttp();
    const held = server.hold((r) => r.method === 'POST' && new URL(r.url).pathname === '/v2/droplets');
    const req = request();
    // A long enough per-request time-out that the hold, not the client, decides.
    const slowClient = digitalOceanProvisioner(
      testConfig(fake, { baseUrl: server.url, policy: { requestTimeoutMs: 5_000, initialDelayMs: 1, maxDelayMs: 5 } }),
    );
    const pending = slowClient.allocate(req, conformanceContext());
    await held.arrived;
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(1);
    held.release();
    const allocation = await pending;
    expect(fake.dropletsOf(req.resourceId).map((d) => String(d.id))).toEqual([allocation.externalId]);
    expect((await provisioner.status(allocation, conformanceContext())).state).toBe('running');
  });

  it('a lost reply is a dropped connection: the client looks the droplet up instead of creating again', async () => {
    const { fake, provisioner } = await overHttp();
    fake.inject('lost_reply', { method: 'POST', path: '/v2/droplets' });
    const req = request();
    await provisioner.allocate(req, conformanceContext());
    expect(fake.count('POST', '/v2/droplets')).toBe(1);
    expect(fake.dropletsOf(req.resourceId)).toHaveLength(1);
  });
});
