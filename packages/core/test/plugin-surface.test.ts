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
