// Configuration, catalog, options and price of the DigitalOcean provisioner.
import { conformanceContext } from '@slipway/core/testing';
import { describe, expect, it } from 'vitest';
import {
  chooseSize,
  DigitalOceanConfigSchema,
  digitalOceanOptionsSchema,
  digitalOceanProvisioner,
  parseDigitalOceanConfig,
  tagValue,
} from '../../src/digitalocean/index.js';
import { request, setup } from './helpers.js';

const config = parseDigitalOceanConfig({ token: 'dop_v1_x' });

describe('DigitalOcean configuration', () => {
  it('needs only a token: the built-in catalog and defaults fill the rest', () => {
    expect(config.baseUrl).toBe('https://api.digitalocean.com');
    expect(config.sizes.map((s) => s.slug)).toContain('s-1vcpu-1gb');
    expect(config.defaults).toEqual({ region: 'nyc3', image: 'ubuntu-24-04-x64' });
    expect(config.deadlines.activeMs).toBeGreaterThan(0);
    expect(DigitalOceanConfigSchema.safeParse({}).success).toBe(false);
  });

  it('refuses a bad config with CONFIG_INVALID naming the field, never echoing the token', () => {
    const attempt = () => parseDigitalOceanConfig({ token: 'dop_v1_secret', defaults: { region: 'mars1' } });
    expect(attempt).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'defaults.region' } }));
    try {
      attempt();
    } catch (error) {
      expect(String(error)).not.toContain('dop_v1_secret');
    }
  });

  it('checks options against the catalog: an unknown slug is an issue on that field', () => {
    const schema = digitalOceanOptionsSchema(config);
    expect(schema.parse({ size: 's-2vcpu-4gb', region: 'fra1' })).toEqual({ size: 's-2vcpu-4gb', region: 'fra1' });
    for (const field of ['size', 'region', 'image'] as const) {
      const parsed = schema.safeParse({ [field]: 'nope' });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual([field]);
    }
    expect(schema.safeParse({ sshKeys: ['not a key'] }).success).toBe(false);
    expect(schema.safeParse({ unknown: 1 }).success).toBe(false);
    // user_data holds 64 KiB: user data and keys that would not fit are refused before any credit moves.
    const key = `ssh-ed25519 ${'A'.repeat(2_000)} me@host`;
    const tooMuch = schema.safeParse({ userData: 'x'.repeat(40 * 1024), sshKeys: Array(32).fill(key) });
    expect(tooMuch.success).toBe(false);
    expect(tooMuch.error?.issues[0]?.path).toEqual(['userData']);
    expect(schema.safeParse({ userData: 'x'.repeat(40 * 1024), sshKeys: [key] }).success).toBe(true);
  });

  it('picks the cheapest non-GPU size that fits the spec; none fits → CAPACITY_EXHAUSTED', () => {
    expect(chooseSize(config, { vcpu: 1, memoryMb: 512, diskGb: 1 }, {}).slug).toBe('s-1vcpu-1gb');
    expect(chooseSize(config, { vcpu: 2, memoryMb: 3000, diskGb: 10 }, {}).slug).toBe('s-2vcpu-4gb');
    expect(chooseSize(config, { vcpu: 1, memoryMb: 8000, diskGb: 10 }, {}).slug).toBe('m-1vcpu-8gb');
    expect(chooseSize(config, { vcpu: 1, memoryMb: 512, diskGb: 1 }, { size: 'gpu-h100x1-80gb' }).slug).toBe(
      'gpu-h100x1-80gb',
    );
    expect(() => chooseSize(config, { vcpu: 64, memoryMb: 512, diskGb: 1 }, {})).toThrow(
      expect.objectContaining({ code: 'CAPACITY_EXHAUSTED' }),
    );
  });

  it('prices by the hour: creditsPerHour × started hours, one at least; no expiry → VALIDATION_FAILED on ttlSeconds', async () => {
    const p = digitalOceanProvisioner({ token: 'dop_v1_x' });
    const ctx = conformanceContext();
    const spec = { vcpu: 1, memoryMb: 512, diskGb: 1 };
    expect(await p.quote(spec, {}, ctx, { ttlSeconds: 60 })).toBe(8);
    expect(await p.quote(spec, {}, ctx, { ttlSeconds: 5400 })).toBe(16);
    expect(await p.quote(spec, { size: 's-2vcpu-4gb' }, ctx, { ttlSeconds: 3600 })).toBe(36);
    expect(() => p.quote(spec, {}, ctx, { ttlSeconds: null })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: expect.objectContaining({ field: 'ttlSeconds' }) }),
    );
    expect(() => p.quote(spec, {}, ctx, { ttlSeconds: null })).toThrow(/by the hour/);
  });

  it('tags ids that fit as they are (lowercased) and hashes the others', () => {
    expect(tagValue('3F2504E0-4F89-11D3-9A0C-0305E82C3301')).toBe('3f2504e0-4f89-11d3-9a0c-0305e82c3301');
    expect(tagValue('client key/with spaces')).toMatch(/^h-[0-9a-f]{32}$/);
  });

  it('offers the configured images and sizes as a catalog, with no API call, no token and no price', async () => {
    const provisioner = digitalOceanProvisioner({ token: 'dop_v1_secret' }, { fetch: () => expect.unreachable() });
    const catalog = await provisioner.catalog(conformanceContext());
    expect(catalog).toMatchObject({ imageOption: 'image', sizeOption: 'size', anySpec: true });
    expect(catalog.images.filter((i) => i.isDefault)).toEqual([{ name: 'ubuntu-24-04-x64', isDefault: true }]);
    expect(catalog.sizes[0]).toEqual({ name: 's-1vcpu-1gb', vcpu: 1, memoryMb: 1024, diskGb: 25 });
    expect(catalog.sizes.find((s) => s.name === 'gpu-h100x1-80gb')?.gpu).toEqual({ count: 1, model: 'nvidia_h100' });
    const schema = digitalOceanOptionsSchema(config);
    for (const size of catalog.sizes) expect(schema.parse({ size: size.name })).toEqual({ size: size.name });
    expect(JSON.stringify(catalog)).not.toMatch(/dop_v1|credits/i);
  });
});

describe('DigitalOcean create request', () => {
  it('tags the droplet and boots it with the request size, image, region and SSH keys', async () => {
    const { fake, provisioner } = await setup();
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0 user@host';
    const req = request({
      requestId: 'Req Key #1',
      spec: { vcpu: 1, memoryMb: 1500, diskGb: 10 },
      options: { region: 'fra1', image: 'debian-12-x64', sshKeys: [key] },
    });
    const allocation = await provisioner.allocate(req, conformanceContext());
    const [droplet] = fake.dropletsOf(req.resourceId);
    expect(droplet).toMatchObject({
      size_slug: 's-1vcpu-2gb',
      region: { slug: 'fra1' },
      image: { slug: 'debian-12-x64' },
    });
    expect(droplet?.tags).toEqual([
      'slipway',
      `slipway-resource:${req.resourceId}`,
      `slipway-request:${tagValue('Req Key #1')}`,
    ]);
    expect(allocation).toMatchObject({
      externalId: String(droplet?.id),
      sshPort: 22,
      data: { region: 'fra1', size: 's-1vcpu-2gb' },
    });
    expect(allocation.ip).toMatch(/^203\.0\./);
    expect(fake.createBodies[0]?.user_data).toBe(
      `#cloud-config\nhostname: slipway-${req.resourceId}\nssh_authorized_keys:\n  - ${JSON.stringify(key)}\n`,
    );
    expect(fake.violations).toEqual([]);
  });
});
