import { describe, expect, it } from 'vitest';
import {
  capabilitiesOf,
  demoProvisioner,
  memoryProvisionerStore,
  type Provisioner,
  ProvisionerRegistry,
  RuntimeProvisioner,
  SlipwayError,
  silentLogger,
  systemClock,
} from '../src/index.js';
import { baseRequest, recordingJobQueue } from '../src/testing/index.js';

const deps = {
  logger: silentLogger,
  clock: systemClock,
  store: memoryProvisionerStore(),
  jobs: recordingJobQueue(),
  storeFor: () => memoryProvisionerStore(),
  jobsFor: () => recordingJobQueue(),
};
const call = { events: { emit: () => {} } };

function fake(overrides: Partial<Provisioner>): Provisioner {
  return {
    name: 'fake',
    isDemo: true,
    allocate: async (req) => ({ resourceId: req.resourceId, externalId: 'x' }),
    release: async () => {},
    status: async () => ({ state: 'running' }),
    ...overrides,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof SlipwayError ? error.code : `untyped: ${String(error)}`;
  }
}

describe('RuntimeProvisioner', () => {
  it('times out a plugin that never answers, even if it ignores the signal', async () => {
    const rt = new RuntimeProvisioner(fake({ allocate: () => new Promise(() => {}) }), deps, {
      timeouts: { allocate: 50 },
    });
    expect(await codeOf(rt.allocate(baseRequest(), call))).toBe('PROVISIONER_TIMEOUT');
  });

  it('passes the abort on to the plugin and reports PROVISIONER_ABORTED', async () => {
    let seen: AbortSignal | undefined;
    const rt = new RuntimeProvisioner(
      fake({
        allocate: (_req, ctx) => {
          seen = ctx.signal;
          return new Promise(() => {});
        },
      }),
      deps,
    );
    const controller = new AbortController();
    const pending = rt.allocate(baseRequest(), { ...call, signal: controller.signal });
    controller.abort();
    expect(await codeOf(pending)).toBe('PROVISIONER_ABORTED');
    expect(seen?.aborted).toBe(true);
  });

  it('wraps plugin errors with cause', async () => {
    const boom = new Error('disk on fire');
    const rt = new RuntimeProvisioner(
      fake({
        release: async () => {
          throw boom;
        },
      }),
      deps,
    );
    const error = await rt.release({ resourceId: 'r', externalId: 'x' }, call).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlipwayError);
    expect((error as SlipwayError).code).toBe('PROVISIONER_FAILED');
    expect((error as SlipwayError).cause).toBe(boom);
    expect((error as SlipwayError).message).toContain('disk on fire');
  });

  it('rejects output that breaks the contract', async () => {
    const rt = new RuntimeProvisioner(fake({ allocate: async () => ({ resourceId: 'other', externalId: '' }) }), deps);
    expect(await codeOf(rt.allocate(baseRequest(), call))).toBe('PROVISIONER_INVALID_OUTPUT');
    const bad = new RuntimeProvisioner(
      fake({ status: async () => ({ state: 'exploded' }) as unknown as { state: 'running' } }),
      deps,
    );
    expect(await codeOf(bad.status({ resourceId: 'r', externalId: 'x' }, call))).toBe('PROVISIONER_INVALID_OUTPUT');
  });

  it('validates options with the plugin schema, and refuses options when it has none', () => {
    const demo = new RuntimeProvisioner(demoProvisioner(), deps);
    expect(demo.parseOptions({ delayMs: 5 })).toEqual({ delayMs: 5 });
    expect(() => demo.parseOptions({ delayMs: -1 })).toThrow(/options.delayMs/);
    const plain = new RuntimeProvisioner(fake({}), deps);
    expect(() => plain.parseOptions({ anything: 1 })).toThrow(/takes no options/);
  });

  it('detects each optional capability member on its own', () => {
    expect(capabilitiesOf(fake({}))).toEqual([]);
    expect(capabilitiesOf(demoProvisioner())).toEqual([
      'optionsSchema',
      'start',
      'stop',
      'restart',
      'reset',
      'reconfigure',
      'attach',
      'detach',
      'catalog',
    ]);
    // `stop` without `reset` is a valid provisioner: each member counts on its own.
    const stopOnly = fake({ stop: async () => {}, quote: () => 5 });
    expect(capabilitiesOf(stopOnly)).toEqual(['quote', 'stop']);
  });

  it('calls a present capability and answers a missing one with NOT_SUPPORTED', async () => {
    const stopped: string[] = [];
    const rt = new RuntimeProvisioner(
      fake({
        stop: async (a) => {
          stopped.push(a.externalId);
        },
      }),
      deps,
    );
    const allocation = { resourceId: 'r', externalId: 'vm-1' };
    await rt.stop(allocation, call);
    expect(stopped).toEqual(['vm-1']);
    await expect(rt.reset(allocation, 'hard', call)).rejects.toMatchObject({
      code: 'NOT_SUPPORTED',
      details: { provisioner: 'fake', capability: 'reset' },
    });
    await expect(rt.runJob('nope', {}, call)).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
  });

  it('validates capability answers (quote, reconfigure) like contract answers', async () => {
    const rt = new RuntimeProvisioner(
      fake({ quote: () => 2.5, reconfigure: async () => ({ appliedAt: 'later' }) as never }),
      deps,
    );
    expect(await codeOf(rt.quote({ vcpu: 1, memoryMb: 512, diskGb: 1 }, {}))).toBe('PROVISIONER_INVALID_OUTPUT');
    expect(await codeOf(rt.reconfigure({ resourceId: 'r', externalId: 'x' }, { vcpu: 2 }, call))).toBe(
      'PROVISIONER_INVALID_OUTPUT',
    );
  });

  it('answers a catalog checked against the contract, or NOT_SUPPORTED without one', async () => {
    const demo = new RuntimeProvisioner(demoProvisioner(), deps);
    const catalog = await demo.catalog(call);
    expect(catalog).toMatchObject({ imageOption: 'image', sizeOption: 'size', anySpec: true });
    expect(catalog.sizes.find((s) => s.name === 'medium')).toEqual({
      name: 'medium',
      vcpu: 2,
      memoryMb: 2048,
      diskGb: 20,
    });
    // Every name it lists passes its options field; a name it does not list is refused.
    expect(demo.parseOptions({ image: 'debian-12', size: 'medium' })).toEqual({ image: 'debian-12', size: 'medium' });
    expect(() => demo.parseOptions({ size: 'huge' })).toThrow(/options.size/);
    expect(await codeOf(new RuntimeProvisioner(fake({}), deps).catalog(call))).toBe('NOT_SUPPORTED');
    const bad = new RuntimeProvisioner(fake({ catalog: () => ({ images: [{ name: '' }], sizes: [] }) as never }), deps);
    expect(await codeOf(bad.catalog(call))).toBe('PROVISIONER_INVALID_OUTPUT');
  });

  it('keeps a catalog a while: concurrent and later askers share one plugin call; a failure is not kept', async () => {
    let calls = 0;
    let fail = true;
    const rt = new RuntimeProvisioner(
      fake({
        catalog: async () => {
          calls += 1;
          if (fail) throw new Error('provider down');
          return { images: [{ name: 'debian-12' }], sizes: [], anySpec: true };
        },
      }),
      deps,
    );
    expect(await codeOf(rt.catalog(call))).toBe('PROVISIONER_FAILED');
    fail = false;
    const [a, b] = await Promise.all([rt.catalog(call), rt.catalog(call)]);
    expect(await rt.catalog(call)).toBe(a);
    expect(b).toBe(a);
    expect(calls).toBe(2); // the failure, then one call for the three that followed
  });
});

describe('ProvisionerRegistry', () => {
  it('refuses duplicates and bad names, and reports unknown names', () => {
    const registry = new ProvisionerRegistry(deps);
    registry.register(demoProvisioner());
    expect(() => registry.register(demoProvisioner())).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_PROVISIONER' }),
    );
    expect(() => registry.register(fake({ name: 'Bad Name' }))).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    // A capability member of the wrong type is refused at registration, naming the member.
    expect(() => registry.register({ ...fake({ name: 'odd' }), stop: 'yes' } as unknown as Provisioner)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'stop' } }),
    );
    expect(() => registry.get('nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_PROVISIONER' }));
    expect(registry.list().map((p) => p.name)).toEqual(['demo']);
  });
});
