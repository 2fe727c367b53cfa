// The OpenAPI subset, the generated types and the fake stay in step with each other.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, DEFAULT_DIGITALOCEAN_SIZES, DigitalOceanClient, nextPage } from '../../src/digitalocean/index.js';
import { ProviderPolicy } from '../../src/shared/provider-policy.js';
import { createDigitalOceanFake } from '../support/digitalocean-fake.js';
import { digitalOceanTypesPath, generateDigitalOceanTypes } from '../support/digitalocean-spec.js';
import { digitalOceanValidator } from '../support/digitalocean-validator.js';

describe('DigitalOcean OpenAPI subset', () => {
  it('the committed generated types match what the spec generates (npm run generate:digitalocean)', async () => {
    const temp = join(tmpdir(), `slipway-do-openapi-${process.pid}.ts`);
    await writeFile(temp, await generateDigitalOceanTypes());
    try {
      expect(await readFile(temp, 'utf8')).toBe(await readFile(digitalOceanTypesPath, 'utf8'));
    } finally {
      await rm(temp, { force: true });
    }
  });

  it('has every operation the provisioner calls, and the validator rejects bodies the spec does not allow', async () => {
    const v = await digitalOceanValidator();
    for (const [method, path] of [
      ['GET', '/v2/droplets'],
      ['POST', '/v2/droplets'],
      ['DELETE', '/v2/droplets'],
      ['GET', '/v2/droplets/1'],
      ['DELETE', '/v2/droplets/1'],
      ['POST', '/v2/droplets/1/actions'],
      ['GET', '/v2/actions/1'],
      ['GET', '/v2/sizes'],
      ['GET', '/v2/regions'],
    ] as const) {
      expect(v.template(method, path), `${method} ${path}`).toBeDefined();
    }
    expect(v.request('POST', '/v2/droplets', { name: 'x' })).not.toEqual([]);
    expect(v.request('POST', '/v2/droplets/1/actions', { type: 'explode' })).not.toEqual([]);
    expect(v.response('GET', '/v2/droplets/1', 200, { droplet: { id: 1 } })).not.toEqual([]);
    expect(v.response('GET', '/v2/droplets/1', 404, { id: 'not_found', message: 'gone' })).toEqual([]);
    expect(v.response('GET', '/v2/droplets/1', 404, { message: 'no id' })).not.toEqual([]);
  });
});

describe('DigitalOcean client', () => {
  const policy = () => new ProviderPolicy('digitalocean', { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 5 });
  const signal = new AbortController().signal;

  it('reads the catalog through paged lists, and the default catalog exists at the (fake) provider', async () => {
    const fake = await createDigitalOceanFake();
    fake.maxPerPage = 3;
    const client = new DigitalOceanClient({
      token: fake.token,
      baseUrl: fake.baseUrl,
      policy: policy(),
      fetch: fake.fetch,
    });
    const sizes = await client.listSizes({ signal });
    expect(sizes.map((s) => s.slug)).toEqual(DEFAULT_DIGITALOCEAN_SIZES.map((s) => s.slug));
    expect(fake.requests.filter((r) => r.path === '/v2/sizes').length).toBe(Math.ceil(sizes.length / 3));
    expect((await client.listRegions({ signal })).map((r) => r.slug)).toContain('nyc3');
    expect(fake.violations).toEqual([]);
  });

  it('sends the Bearer token; a wrong one is an auth error whose text never carries the token', async () => {
    const fake = await createDigitalOceanFake();
    const client = new DigitalOceanClient({
      token: 'dop_v1_wrong',
      baseUrl: fake.baseUrl,
      policy: policy(),
      fetch: fake.fetch,
    });
    const error = await client.getDroplet(1, { signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', details: { status: 401 } });
    expect(JSON.stringify(error) + String(error)).not.toContain('dop_v1_wrong');
  });

  it('classifies DigitalOcean answers', () => {
    const headers = {
      'ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'content-type': 'application/json',
    };
    const body = (id: string, message: string) => JSON.stringify({ id, message, request_id: 'r-1' });
    const limit = classify(
      new Response(null, { status: 422, headers }),
      body('unprocessable_entity', 'creating this/these droplet(s) will exceed your droplet limit'),
    );
    expect(limit).toMatchObject({ kind: 'capacity', details: { status: 422, requestId: 'r-1' } });
    // ratelimit-reset is on every answer: only a 429 (or an explicit retry-after) asks for a wait.
    expect(
      classify(new Response(null, { status: 500, headers }), body('server_error', 'x')).details.retryAfterMs,
    ).toBeUndefined();
    expect(
      classify(new Response(null, { status: 429, headers }), body('too_many_requests', 'x')).details.retryAfterMs,
    ).toBeGreaterThan(3_000_000);
    expect(
      classify(
        new Response(null, { status: 422, headers }),
        body('unprocessable_entity', 'Droplet already has a pending event.'),
      ).kind,
    ).toBe('client');
  });

  it('follows links.pages.next only forward', () => {
    expect(nextPage({ next: 'https://api.digitalocean.com/v2/droplets?page=3&per_page=2' }, 2)).toBe(3);
    expect(nextPage({ prev: 'https://api.digitalocean.com/v2/droplets?page=1' }, 2)).toBe(0);
    expect(nextPage({ next: 'https://api.digitalocean.com/v2/droplets?page=1' }, 2)).toBe(0);
    expect(nextPage(undefined, 1)).toBe(0);
    expect(nextPage({}, 1)).toBe(0);
  });
});
