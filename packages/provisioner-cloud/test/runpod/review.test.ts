// Review regressions: duplicates across processes, answers that must not read as "gone", a
// stale external id, overlapping name prefixes, an echoed key, and quote arithmetic.
import { baseRequest, conformanceContext } from '@slipway/core/testing';
import { describe, expect, it } from 'vitest';
import { parseRunpodConfig, type RunpodConfigInput, runpodProvisioner } from '../../src/runpod/index.js';
import { loggingContext, testConfig, useRunpodFake } from './helpers.js';

const rp = useRunpodFake({ readyAfterPolls: 1 });
const CREATE = 'podFindAndDeployOnDemand';

function setup(overrides: Partial<RunpodConfigInput> = {}) {
  const fake = rp.fresh({ readyAfterPolls: 1 });
  const provisioner = runpodProvisioner(testConfig(fake, overrides));
  const req = baseRequest({ kind: 'pod' });
  const named = () => fake.pods.filter((p) => p.name === `slipway-${req.resourceId}`);
  return { fake, provisioner, req, named };
}

describe('runpod across processes', () => {
  it('two replicas allocating one resource end with one pod and the same external id', async () => {
    const { fake, req, named } = setup();
    const replicas = [1, 2].map(() => runpodProvisioner(testConfig(fake)));
    const [a, b] = await Promise.all(replicas.map((p) => p.allocate(req, conformanceContext())));
    expect(b?.externalId).toBe(a?.externalId);
    expect(named().map((p) => p.id)).toEqual([a?.externalId]);
  });

  it('a create RunPod finishes after its time-out: the release removes the late pod too', async () => {
    const { fake, provisioner, req, named } = setup({
      policy: { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 20, requestTimeoutMs: 200 },
    });
    fake.fail(CREATE, { kind: 'stall', ms: 1_500 }); // lands long after the look-up by name that follows the time-out
    const allocation = await provisioner.allocate(req, conformanceContext());
    // Wait for the stalled create to land (a second pod), however loaded the machine is;
    // allocate may already have converged on one of the two if it landed meanwhile.
    // (On a loaded machine the look-up may instead find the stalled pod: then there is one. Either
    // way the release must leave none.)
    for (let i = 0; i < 120 && fake.store.created.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(fake.store.created.length).toBeGreaterThanOrEqual(1);
    expect(fake.store.created.length).toBeLessThanOrEqual(2);
    await provisioner.release(allocation, conformanceContext());
    expect(named()).toEqual([]);
  });
});

describe('runpod answers that do not say gone', () => {
  it.each([
    ['myself null', { data: { myself: null } }],
    ['pods missing', { data: { myself: { id: 'u' } } }],
    ['a null pod entry', { data: { myself: { id: 'u', pods: [null] } } }],
  ])('a list with %s fails release, status by name and inventory (retryable)', async (_, body) => {
    const { fake, provisioner, req, named } = setup();
    await provisioner.allocate(req, conformanceContext());
    const byName = { resourceId: req.resourceId, externalId: '' };
    fake.fail('myself', { kind: 'reply', body }, 3 * 4);
    await expect(provisioner.release(byName, conformanceContext())).rejects.toMatchObject({ retryable: true });
    await expect(provisioner.status(byName, conformanceContext())).rejects.toMatchObject({ retryable: true });
    await expect(provisioner.inventory(conformanceContext())).rejects.toMatchObject({ retryable: true });
    expect(named()).toHaveLength(1);
  });

  it('a 200 whose data lacks `pod` is a retryable failure, not gone', async () => {
    const { fake, provisioner, req } = setup();
    const allocation = await provisioner.allocate(req, conformanceContext());
    fake.fail('pod', { kind: 'reply', body: { data: {} } }, 4);
    await expect(provisioner.status(allocation, conformanceContext())).rejects.toMatchObject({ retryable: true });
  });

  it('an external id RunPod does not know: status and power use the pod named after the resource', async () => {
    const { fake, provisioner, req, named } = setup();
    const allocation = await provisioner.allocate(req, conformanceContext());
    const stale = { ...allocation, externalId: 'zzzzzzzzzzzzzz' };
    expect((await provisioner.status(stale, conformanceContext())).state).toBe('running');
    await provisioner.stop(stale, conformanceContext());
    expect(named()[0]?.desiredStatus).toBe('EXITED');
    expect(fake.count('podStop')).toBe(1);
  });
});

describe('runpod inventory across installations', () => {
  it("a prefix that extends ours (slipway-staging-) does not put the other installation's pods in ours", async () => {
    const fake = rp.fresh({ readyAfterPolls: 1 });
    const ours = runpodProvisioner(testConfig(fake));
    const theirs = runpodProvisioner(testConfig(fake, { namePrefix: 'slipway-staging-' }));
    await theirs.allocate(baseRequest({ kind: 'pod' }), conformanceContext());
    expect(await theirs.inventory(conformanceContext())).toHaveLength(1);
    expect(await ours.inventory(conformanceContext())).toEqual([]);
  });
});

describe('runpod secrets', () => {
  it('an answer that echoes the Authorization header never puts the key in a log or an error', async () => {
    const fake = rp.fresh();
    const echo: typeof fetch = async (input, init) => {
      const req = input instanceof Request ? input : new Request(input, init);
      const auth = req.headers.get('authorization') ?? '';
      return Response.json({ errors: [{ message: `bad header ${auth}` }] }, { status: 200 });
    };
    const provisioner = runpodProvisioner(testConfig(fake), { fetch: echo });
    const ctx = loggingContext();
    const error = await provisioner.allocate(baseRequest({ kind: 'pod' }), ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROVISIONER_FAILED' });
    expect(ctx.lines.join('\n')).toContain('[redacted]');
    expect(ctx.lines.join('\n') + JSON.stringify(error) + String(error)).not.toContain(fake.apiKey);
  });
});

describe('runpod quote arithmetic', () => {
  const spec = { vcpu: 4, memoryMb: 8192, diskGb: 20 };
  const quote = (creditsPerHour: number, gpuCount: number, ttlSeconds: number) => {
    const p = runpodProvisioner({ apiKey: 'rp_key', gpuTypes: [{ id: 'NVIDIA X', creditsPerHour }] });
    return p.quote(spec, p.optionsSchema.parse({ gpuCount }), conformanceContext(), { ttlSeconds });
  };

  it('a fractional rate × GPUs × hours is not pushed up a credit by float error', async () => {
    expect(await quote(0.1, 3, 36_000)).toBe(3);
    expect(await quote(0.7, 3, 36_000)).toBe(21);
    expect(await quote(0.35, 3, 7 * 3600)).toBe(8);
  });

  it('a rate that could overflow a safe integer over a year is refused by the config', () => {
    expect(() => parseRunpodConfig({ apiKey: 'k', gpuTypes: [{ id: 'X', creditsPerHour: 1e13 }] })).toThrow(
      /gpuTypes\.0\.creditsPerHour/,
    );
    expect(() => parseRunpodConfig({ apiKey: 'k', gpuTypes: [{ id: 'X', creditsPerHour: 0.123456 }] })).toThrow(
      /creditsPerHour/,
    );
  });
});
