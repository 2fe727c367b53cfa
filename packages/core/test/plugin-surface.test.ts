import { randomUUID } from 'node:crypto';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  allocationRecords,
  defineProvisioner,
  isSlipwayError,
  memoryProvisionerStore,
  RuntimeProvisioner,
  SlipwayError,
  silentLogger,
  sleep,
  systemClock,
} from '../src/index.js';
import { baseRequest, conformanceContext, recordingJobQueue } from '../src/testing/index.js';

const runtimeDeps = () => ({
  logger: silentLogger,
  clock: systemClock,
  store: memoryProvisionerStore(),
  jobs: recordingJobQueue(),
});

describe('defineProvisioner', () => {
  const greeter = defineProvisioner({
    name: 'greeter',
    isDemo: true,
    optionsSchema: z.object({ greeting: z.string().default('hi') }).strict(),
    async allocate(req) {
      expectTypeOf(req.options.greeting).toEqualTypeOf<string>();
      return { resourceId: req.resourceId, externalId: `${req.options.greeting}-${req.resourceId}` };
    },
    async release() {},
    async status() {
      return { state: 'gone' as const };
    },
    quote: (_spec, options) => options.greeting.length,
    /** A plugin-local member stays on the returned type. */
    greetingOf: (externalId: string) => externalId.split('-')[0],
  });

  it('infers options from the schema and keeps plugin-local members', async () => {
    expectTypeOf(greeter.greetingOf).toEqualTypeOf<(externalId: string) => string | undefined>();
    const rt = new RuntimeProvisioner(greeter, runtimeDeps());
    const options = rt.parseOptions({});
    const allocation = await rt.allocate(baseRequest({ options }), { events: { emit: () => {} } });
    expect(greeter.greetingOf(allocation.externalId)).toBe('hi');
    expect(await rt.quote({ vcpu: 1, memoryMb: 512, diskGb: 1 }, { greeting: 'hello' })).toBe(5);
  });

  it('checks the definition where it is written, naming the member', () => {
    const base = { name: 'x', isDemo: false, allocate: async () => ({ resourceId: 'r', externalId: 'e' }) };
    expect(() => defineProvisioner({ ...base, release: async () => {} } as never)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: { field: 'status' } }),
    );
    const full = { ...base, release: async () => {}, status: async () => ({ state: 'gone' as const }) };
    expect(() => defineProvisioner({ ...full, name: 'Not OK' })).toThrow(/name/);
    expect(() => defineProvisioner({ ...full, jobHandlers: { sync: 'no' } } as never)).toThrow(
      expect.objectContaining({ details: { field: 'jobHandlers' } }),
    );
  });
});

describe('SlipwayError across two copies of the core', () => {
  it('keeps its code, details and retryable flag, and passes the runtime unwrapped', async () => {
    // A second module instance of errors.ts: what a plugin resolving its own copy would throw.
    const path = '../src/errors.ts?second-copy';
    const other = (await import(/* @vite-ignore */ path)) as typeof import('../src/errors.js');
    expect(other.SlipwayError).not.toBe(SlipwayError);
    const foreign = new other.SlipwayError('CAPACITY_EXHAUSTED', 'no GPUs left', { retryable: true });
    expect(isSlipwayError(foreign, 'CAPACITY_EXHAUSTED')).toBe(true);
    expect(foreign instanceof SlipwayError).toBe(true);
    expect(new SlipwayError('NOT_FOUND', 'x') instanceof other.SlipwayError).toBe(true);
    expect(new Error('plain') instanceof SlipwayError).toBe(false);
    expect(JSON.stringify(foreign)).not.toContain('Symbol');

    const rt = new RuntimeProvisioner(
      defineProvisioner({
        name: 'foreign',
        isDemo: true,
        allocate: async () => {
          throw foreign;
        },
        release: async () => {},
        status: async () => ({ state: 'gone' as const }),
      }),
      runtimeDeps(),
    );
    const error = await rt.allocate(baseRequest(), { events: { emit: () => {} } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CAPACITY_EXHAUSTED', retryable: true, message: 'no GPUs left' });
  });

  it('reads retryable from the option or from details', () => {
    expect(new SlipwayError('PROVISIONER_FAILED', 'x', { retryable: true }).retryable).toBe(true);
    expect(new SlipwayError('PROVISIONER_FAILED', 'x', { details: { retryable: true } }).retryable).toBe(true);
    expect(new SlipwayError('PROVISIONER_FAILED', 'x').retryable).toBe(false);
  });
});

describe('allocationRecords', () => {
  it('builds once for concurrent calls and answers later calls from the record', async () => {
    const store = memoryProvisionerStore();
    const records = allocationRecords(store);
    const ctx = conformanceContext();
    let builds = 0;
    const build = async () => {
      builds += 1;
      await new Promise((r) => setTimeout(r, 10));
      return { resourceId: 'r1', externalId: `m-${builds}` };
    };
    const [a, b] = await Promise.all([
      records.once({ resourceId: 'r1' }, ctx, build),
      records.once({ resourceId: 'r1' }, ctx, build),
    ]);
    expect(a).toEqual(b);
    // A fresh helper over the same store (another replica, a restart) reads the record.
    expect(await allocationRecords(store).once({ resourceId: 'r1' }, ctx, build)).toEqual(a);
    expect(builds).toBe(1);
    expect(await records.list()).toEqual([a]);
    expect(await records.forget('r1')).toBe(true);
    expect(await records.get('r1')).toBeUndefined();
  });

  it('does not build when the signal is already aborted, and records nothing when build fails', async () => {
    const records = allocationRecords(memoryProvisionerStore());
    const controller = new AbortController();
    controller.abort(new Error('gave up'));
    let built = false;
    await expect(
      records.once({ resourceId: randomUUID() }, { signal: controller.signal }, async () => {
        built = true;
        return { resourceId: 'x', externalId: 'y' };
      }),
    ).rejects.toThrow('gave up');
    expect(built).toBe(false);
    const id = randomUUID();
    await expect(
      records.once({ resourceId: id }, conformanceContext(), async () => {
        throw new Error('provider said no');
      }),
    ).rejects.toThrow('provider said no');
    expect(await records.get(id)).toBeUndefined();
  });
});

describe('allocationRecords across callers and replicas (review findings)', () => {
  const ctx = () => ({ signal: new AbortController().signal });

  it('keeps builds of different prefixes apart', async () => {
    const store = memoryProvisionerStore();
    const vms = allocationRecords(store, { prefix: 'vm/' });
    const disks = allocationRecords(store, { prefix: 'disk/' });
    let open = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const vm = vms.once({ resourceId: 'r1' }, ctx(), async () => {
      await gate;
      return { resourceId: 'r1', externalId: 'vm-1' };
    });
    const disk = disks.once({ resourceId: 'r1' }, ctx(), async () => ({ resourceId: 'r1', externalId: 'disk-1' }));
    open();
    expect((await disk).externalId).toBe('disk-1');
    expect((await vm).externalId).toBe('vm-1');
  });

  it('two replicas build once: the second waits for the first one’s record', async () => {
    const shared = memoryProvisionerStore();
    const replicaB = Object.create(shared) as typeof shared; // another object: no in-process sharing
    const built: string[] = [];
    const build = (id: string) => async () => {
      await new Promise((r) => setTimeout(r, 30));
      built.push(id);
      return { resourceId: 'r1', externalId: id };
    };
    const [a, b] = await Promise.all([
      allocationRecords(shared, { pollMs: 5 }).once({ resourceId: 'r1' }, ctx(), build('m-a')),
      allocationRecords(replicaB, { pollMs: 5 }).once({ resourceId: 'r1' }, ctx(), build('m-b')),
    ]);
    expect(a.externalId).toBe(b.externalId);
    expect(built).toHaveLength(1);
  });

  it('takes over a dead claimer’s lease, and discards a stalled builder’s duplicate', async () => {
    const store = memoryProvisionerStore();
    const discarded: string[] = [];
    let release = () => {};
    const stalled = new Promise<void>((r) => {
      release = r;
    });
    const slow = allocationRecords(store, { leaseMs: 30, pollMs: 5 }).once(
      { resourceId: 'r1' },
      ctx(),
      async () => {
        await stalled; // a builder that hangs past its lease
        return { resourceId: 'r1', externalId: 'm-slow' };
      },
      async (dup) => {
        discarded.push(dup.externalId);
      },
    );
    // A claimer whose process froze stops renewing: overwrite its claim with an expired one (its
    // later renewals then no longer match the version, as after a real lapse).
    await new Promise((r) => setTimeout(r, 5));
    const entry = await store.get<{ state: string }>('allocation/r1');
    await store.put('allocation/r1', { ...entry?.value, until: 0 });
    const other = Object.create(store) as typeof store;
    const winner = await allocationRecords(other, { leaseMs: 30, pollMs: 5 }).once(
      { resourceId: 'r1' },
      ctx(),
      async () => ({
        resourceId: 'r1',
        externalId: 'm-fresh',
      }),
    );
    expect(winner.externalId).toBe('m-fresh');
    release();
    expect((await slow).externalId).toBe('m-fresh');
    expect(discarded).toEqual(['m-slow']);
  });
});

describe('the runtime against odd plugins (review findings)', () => {
  it('settles a member that returns no promise, instead of reporting a failure after it worked', async () => {
    let released = 0;
    const plugin = defineProvisioner({
      name: 'sync',
      isDemo: true,
      async allocate(req) {
        return { resourceId: req.resourceId, externalId: 'x' };
      },
      release: (() => {
        released += 1;
      }) as never,
      async status() {
        return { state: 'gone' as const };
      },
    });
    const rt = new RuntimeProvisioner(plugin, runtimeDeps());
    await expect(
      rt.release({ resourceId: 'r', externalId: 'x' }, { events: { emit: () => {} } }),
    ).resolves.toBeUndefined();
    expect(released).toBe(1);
  });

  it('refuses an options schema whose output would not survive the database', () => {
    const plugin = defineProvisioner({
      name: 'dated',
      isDemo: true,
      optionsSchema: z.object({ notBefore: z.coerce.date().default(() => new Date(0)) }),
      async allocate(req) {
        return { resourceId: req.resourceId, externalId: 'x' };
      },
      async release() {},
      async status() {
        return { state: 'gone' as const };
      },
    });
    const rt = new RuntimeProvisioner(plugin, runtimeDeps());
    expect(() => rt.parseOptions({})).toThrow(expect.objectContaining({ code: 'PROVISIONER_INVALID_OUTPUT' }));
  });
});

describe('allocationRecords under slow stores, aborts and releases (second review)', () => {
  /** A store whose compare-and-set takes `ms`: renewals are still in flight when a build ends. */
  const slowStore = (ms: number) => {
    const inner = memoryProvisionerStore();
    return Object.assign(Object.create(inner), {
      compareAndSet: async (...args: Parameters<typeof inner.compareAndSet>) => {
        await new Promise((r) => setTimeout(r, ms));
        return inner.compareAndSet(...args);
      },
    }) as typeof inner;
  };

  it('a renewal in flight when the build ends does not cost the owner its machine', async () => {
    const store = slowStore(10);
    const discarded: string[] = [];
    let builds = 0;
    const out = await allocationRecords(store, { leaseMs: 30, pollMs: 5 }).once(
      { resourceId: 'r1' },
      { signal: new AbortController().signal },
      async () => {
        builds += 1;
        await new Promise((r) => setTimeout(r, 25)); // ends while a renewal (every 10 ms) is in flight
        return { resourceId: 'r1', externalId: `m-${builds}` };
      },
      async (dup) => {
        discarded.push(dup.externalId);
      },
    );
    expect(out.externalId).toBe('m-1');
    expect(builds).toBe(1);
    expect(discarded).toEqual([]);
  });

  it('a build that ignores its abort frees the claim, and its late machine is discarded', async () => {
    const store = memoryProvisionerStore();
    const discarded: string[] = [];
    const controller = new AbortController();
    let finish = () => {};
    let started = () => {};
    const buildStarted = new Promise<void>((r) => {
      started = r;
    });
    const first = allocationRecords(store, { leaseMs: 60_000, pollMs: 5 }).once(
      { resourceId: 'r1' },
      { signal: controller.signal },
      () =>
        new Promise((resolve) => {
          started();
          finish = () => resolve({ resourceId: 'r1', externalId: 'm-late' });
        }),
      async (dup) => {
        discarded.push(dup.externalId);
      },
    );
    await buildStarted;
    controller.abort(new Error('timed out'));
    await expect(first).rejects.toThrow('timed out');
    // The next attempt (a retry of the job) does not wait out the 60 s lease.
    const retry = await allocationRecords(Object.create(store) as typeof store, { pollMs: 5 }).once(
      { resourceId: 'r1' },
      { signal: new AbortController().signal },
      async () => ({ resourceId: 'r1', externalId: 'm-retry' }),
    );
    expect(retry.externalId).toBe('m-retry');
    finish();
    await new Promise((r) => setTimeout(r, 10));
    expect(discarded).toEqual(['m-late']);
  });

  it('a caller joining a build keeps its own signal, and retries when the first caller gave up', async () => {
    const store = memoryProvisionerStore();
    const records = allocationRecords(store, { pollMs: 5 });
    const a = new AbortController();
    const first = records.once({ resourceId: 'r1' }, { signal: a.signal }, (signal) =>
      sleep(1_000, signal).then(() => ({ resourceId: 'r1', externalId: 'm-a' })),
    );
    const second = records.once({ resourceId: 'r1' }, { signal: new AbortController().signal }, async () => ({
      resourceId: 'r1',
      externalId: 'm-b',
    }));
    a.abort(new Error('A gave up'));
    await expect(first).rejects.toThrow('A gave up');
    expect((await second).externalId).toBe('m-b');
  });

  it('a release during a build leaves a tombstone: the late machine is discarded, never recorded', async () => {
    const store = memoryProvisionerStore();
    const discarded: string[] = [];
    let finish = () => {};
    const building = allocationRecords(store).once(
      { resourceId: 'r1' },
      { signal: new AbortController().signal },
      () =>
        new Promise((resolve) => {
          finish = () => resolve({ resourceId: 'r1', externalId: 'm-1' });
        }),
      async (dup) => {
        discarded.push(dup.externalId);
      },
    );
    await new Promise((r) => setTimeout(r, 5));
    expect(await allocationRecords(store).forget('r1')).toBe(true);
    finish();
    await expect(building).rejects.toMatchObject({ code: 'PROVISIONER_FAILED' });
    expect(discarded).toEqual(['m-1']);
    expect(await allocationRecords(store).get('r1')).toBeUndefined();
  });
});
