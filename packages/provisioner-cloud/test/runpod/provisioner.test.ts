// What the RunPod provisioner asks RunPod for, and its power, inventory, quote and options.
import { isSlipwayError } from '@slipway/core';
import { baseRequest, conformanceContext } from '@slipway/core/testing';
import { describe, expect, it } from 'vitest';
import { parseRunpodConfig, type RunpodOptions, runpodProvisioner } from '../../src/runpod/index.js';
import { SSH_KEY, testConfig, useRunpodFake } from './helpers.js';

const rp = useRunpodFake({ readyAfterPolls: 2 });

function setup(options: Partial<RunpodOptions> = {}) {
  const fake = rp.fresh({ readyAfterPolls: 2 });
  const provisioner = runpodProvisioner(testConfig(fake));
  const parsed = provisioner.optionsSchema.parse(options);
  const req = baseRequest({ kind: 'pod', options: parsed });
  return { fake, provisioner, req, ctx: conformanceContext() };
}

describe('runpod allocate', () => {
  it('rents a named, labelled pod with SSH and answers its public SSH endpoint', async () => {
    const { fake, provisioner, req, ctx } = setup({ sshKeys: [SSH_KEY], gpuType: 'RTX 4090', dataCenterId: 'EU-RO-1' });
    const allocation = await provisioner.allocate(req, ctx);
    const [pod] = fake.pods;
    expect(pod?.id).toBe(allocation.externalId);
    expect(pod?.input).toMatchObject({
      name: `slipway-${req.resourceId}`,
      gpuTypeId: 'NVIDIA GeForce RTX 4090',
      gpuCount: 1,
      cloudType: 'SECURE',
      imageName: 'runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04',
      ports: '22/tcp',
      startSsh: true,
      supportPublicIp: true,
      dataCenterId: 'EU-RO-1',
    });
    expect(pod?.env).toEqual([
      `SLIPWAY_RESOURCE_ID=${req.resourceId}`,
      `SLIPWAY_REQUEST_ID=${req.requestId}`,
      `PUBLIC_KEY=${SSH_KEY}`,
    ]);
    expect(allocation).toMatchObject({ ip: '194.68.245.30', sshPort: pod?.sshPublicPort, state: 'running' });
    // runtime was null on the first poll, then the ports showed.
    expect(fake.count('pod')).toBe(2);
    expect(ctx.emitted.map((e) => e.action)).toEqual(['runpod.pod_created']);
  });

  it('reuses a pod an earlier attempt created', async () => {
    const { fake, provisioner, req, ctx } = setup();
    const earlier = fake.store.create({ name: `slipway-${req.resourceId}`, imageName: 'x', ports: '22/tcp' }, null);
    const allocation = await provisioner.allocate(req, ctx);
    expect(allocation.externalId).toBe(earlier.id);
    expect(fake.count('podFindAndDeployOnDemand')).toBe(0);
  });

  it('rents an interruptible pod at the bid, and resumes it with podBidResume', async () => {
    const { fake, provisioner, req, ctx } = setup({ interruptible: true, bidPerGpu: 0.25, gpuCount: 2 });
    const allocation = await provisioner.allocate(req, ctx);
    expect(fake.count('podRentInterruptable')).toBe(1);
    expect(fake.pods[0]).toMatchObject({ podType: 'INTERRUPTABLE', bidPerGpu: 0.25, gpuCount: 2 });
    expect(allocation.data).toMatchObject({ interruptible: true, bidPerGpu: 0.25, gpuCount: 2 });
    await provisioner.stop(allocation, ctx);
    await provisioner.start(allocation, ctx);
    const resume = fake.requests.find((r) => r.field === 'podBidResume');
    expect(resume?.variables).toEqual({ podId: allocation.externalId, gpuCount: 2, bidPerGpu: 0.25 });
    expect(fake.count('podResume')).toBe(0);
  });
});

describe('runpod power and status', () => {
  it('stop → stopped, start → provisioning then running, restart = stop + resume', async () => {
    const { fake, provisioner, req, ctx } = setup({ gpuCount: 2 });
    const allocation = await provisioner.allocate(req, ctx);
    await provisioner.stop(allocation, ctx);
    expect(await provisioner.status(allocation, ctx)).toEqual({ state: 'stopped' });
    await provisioner.start(allocation, ctx);
    expect((await provisioner.status(allocation, ctx)).state).toBe('provisioning');
    const running = await provisioner.status(allocation, ctx);
    expect(running).toMatchObject({ state: 'running', ip: '194.68.245.30' });
    expect(running.sshPort).toBe(fake.pods[0]?.sshPublicPort);
    expect(fake.requests.find((r) => r.field === 'podResume')?.variables).toMatchObject({ gpuCount: 2 });

    await provisioner.restart(allocation, ctx);
    expect(fake.count('podStop')).toBe(2);
    expect(fake.count('podResume')).toBe(2);
    expect(fake.pods[0]?.desiredStatus).toBe('RUNNING');
    expect('reset' in provisioner).toBe(false);
  });

  it('status and power find the pod by name when the external id is unknown', async () => {
    const { provisioner, req, ctx } = setup();
    await provisioner.allocate(req, ctx);
    const lookup = { resourceId: req.resourceId, externalId: '' };
    await provisioner.stop(lookup, ctx);
    expect((await provisioner.status(lookup, ctx)).state).toBe('stopped');
  });

  it('power on a pod that is gone: NOT_FOUND', async () => {
    const { provisioner, ctx } = setup();
    await expect(provisioner.stop({ resourceId: 'r', externalId: 'nopenopenopeno' }, ctx)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('runpod inventory', () => {
  it('lists the slipway pods with the resource and request they were built for', async () => {
    const { fake, provisioner, req, ctx } = setup();
    const allocation = await provisioner.allocate(req, ctx);
    fake.store.create({ name: 'someone-else', imageName: 'x' }, null);
    fake.store.create({ name: 'slipway-orphan', imageName: 'x' }, null);
    const items = await provisioner.inventory(ctx);
    expect(items).toHaveLength(2);
    expect(items).toContainEqual({
      externalId: allocation.externalId,
      resourceId: req.resourceId,
      requestId: req.requestId,
    });
    expect(items.map((i) => i.resourceId)).toContain('orphan');
  });
});

describe('runpod quote and options', () => {
  const provisioner = runpodProvisioner({ apiKey: 'rp_key' });
  const spec = { vcpu: 4, memoryMb: 8192, diskGb: 20 };
  const ctx = conformanceContext();
  const options = (o: Record<string, unknown>) => provisioner.optionsSchema.parse(o);

  it('prices credits per GPU-hour × GPUs × started hours, at least one hour', async () => {
    const gpu = options({ gpuType: 'NVIDIA GeForce RTX 4090', gpuCount: 2 });
    expect(await provisioner.quote(spec, gpu, ctx, { ttlSeconds: 5400 })).toBe(70 * 2 * 2);
    expect(await provisioner.quote(spec, gpu, ctx, { ttlSeconds: 60 })).toBe(140);
    expect(await provisioner.quote(spec, options({}), ctx, { ttlSeconds: 3600 })).toBe(35);
  });

  it('refuses a lease without expiry: it prices by the hour', () => {
    try {
      provisioner.quote(spec, options({}), ctx, { ttlSeconds: null });
      expect.unreachable();
    } catch (error) {
      expect(isSlipwayError(error, 'VALIDATION_FAILED')).toBe(true);
      expect(error).toMatchObject({ details: { field: 'ttlSeconds' } });
      expect((error as Error).message).toMatch(/by the hour/);
    }
  });

  it.each([
    [{ gpuType: 'NVIDIA Imaginary 9000' }, 'gpuType'],
    [{ interruptible: true }, 'bidPerGpu'],
    [{ bidPerGpu: 0.3 }, 'bidPerGpu'],
    [{ image: 'windows' }, 'image'],
    [{ cloudType: 'PRIVATE' }, 'cloudType'],
    [{ gpuCount: 0 }, 'gpuCount'],
    [{ sshKeys: ['not a key'] }, 'sshKeys.0'],
    [{ extra: 1 }, ''],
  ])('options %j: an issue on %s', (input, field) => {
    const parsed = provisioner.optionsSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path.join('.')).toBe(field);
  });

  it('offers its images and GPU types as a catalog, from the config alone, with no key and no price', async () => {
    const catalog = await provisioner.catalog(ctx);
    expect(catalog).toMatchObject({ imageOption: 'image', sizeOption: 'gpuType', anySpec: true });
    expect(catalog.images).toEqual([
      { name: 'pytorch', description: expect.stringContaining('runpod/pytorch'), isDefault: true },
    ]);
    expect(catalog.sizes[0]).toEqual({
      name: 'NVIDIA RTX A4000',
      description: 'RTX A4000',
      gpu: { count: 1, model: 'RTX A4000', memoryGb: 16 },
      isDefault: true,
    });
    // A GPU type fixes no vCPU/RAM/disk: those stay the spec's minimums.
    expect(catalog.sizes.every((s) => s.vcpu === undefined && s.memoryMb === undefined)).toBe(true);
    for (const size of catalog.sizes) expect(options({ gpuType: size.name })).toEqual({ gpuType: size.name });
    expect(JSON.stringify(catalog)).not.toMatch(/rp_key|credits/i);
  });

  it('a GPU may be named by display name; it is stored as RunPod id', () => {
    expect(options({ gpuType: 'H100 SXM', interruptible: true, bidPerGpu: 1.5 })).toEqual({
      gpuType: 'NVIDIA H100 80GB HBM3',
      interruptible: true,
      bidPerGpu: 1.5,
    });
  });

  it('the config needs only an API key, and says which field is wrong without echoing values', () => {
    const config = parseRunpodConfig({ apiKey: 'rp_key' });
    expect(config).toMatchObject({ baseUrl: 'https://api.runpod.io/graphql', defaults: { cloudType: 'SECURE' } });
    expect(config.gpuTypes.length).toBeGreaterThan(0);
    expect(() => parseRunpodConfig({})).toThrow(expect.objectContaining({ details: { field: 'apiKey' } }));
    expect(() => parseRunpodConfig({ apiKey: 'rp_key', defaults: { image: 'nope' } })).toThrow(/defaults\.image/);
    expect(provisioner).toMatchObject({ name: 'runpod', isDemo: false, kind: 'pod' });
    expect(JSON.stringify(provisioner)).not.toContain('rp_key');
  });
});
