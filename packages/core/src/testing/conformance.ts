/**
 * The conformance suite every provisioner runs. A plugin's test is a few lines:
 *
 *   import { describeProvisionerConformance } from '@slipway/core/testing';
 *   describeProvisionerConformance({ create: () => myProvisioner({ ... }) });
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger, systemClock } from '../logger.js';
import { CAPABILITY_NAMES, type CapabilityName } from '../provisioner/capabilities.js';
import { checkProvisioner } from '../provisioner/define-provisioner.js';
import { memoryProvisionerStore } from '../provisioner/memory-provisioner-store.js';
import type { AllocationRequest, ProvisionContext, Provisioner, ProvisionerEvent } from '../provisioner/provisioner.js';
import type { JobQueue, JobRequest, ProvisionerStore } from '../provisioner/provisioner-store.js';
import { RuntimeProvisioner } from '../provisioner/runtime-provisioner.js';

/** Options of `describeProvisionerConformance`. Only `create` is required. */
export interface ConformanceOptions<P extends Provisioner = Provisioner> {
  /** Suite title; defaults to `provisioner`. */
  name?: string;
  /** Build the provisioner under test. Called once per suite; every check shares the instance. */
  create: () => P | Promise<P>;
  /**
   * Adapt the base request (`baseRequest()`: 1 vCPU, 512 MB, 1 GB disk, no options, no labels)
   * to what this provisioner can fulfil. Default: the base request as is.
   */
  request?: (base: AllocationRequest) => AllocationRequest;
  /**
   * A request whose allocation takes long enough (≥ 1 s) to be aborted half-way. With it, the
   * suite checks that an abort 50 ms into allocate rejects and leaves nothing behind. Without
   * it, that check runs in a weaker form (abort at once: allocate either rejects, or its
   * machine releases cleanly), and its title says so.
   */
  slowRequest?: (base: AllocationRequest) => AllocationRequest;
  /** Called once after the suite with the instance, e.g. to stop a server it started. */
  dispose?: (provisioner: P) => Promise<void> | void;
  /** Per-check time-out in ms. Default 30 s. */
  timeoutMs?: number;
  /**
   * The `ctx.store` every call gets. Default: one in-memory store for the suite; pass
   * `sqlProvisionerStore(db, name)` to run over the real SQL store.
   */
  store?: ProvisionerStore;
}

/** A job queue that only records what was enqueued; tests run the handlers themselves. */
export interface RecordingJobQueue extends JobQueue {
  readonly enqueued: JobRequest[];
}

export function recordingJobQueue(): RecordingJobQueue {
  const enqueued: JobRequest[] = [];
  return {
    enqueued,
    enqueue: async (job) => {
      enqueued.push(job);
    },
  };
}

export function conformanceContext(
  signal: AbortSignal = new AbortController().signal,
  deps: { store?: ProvisionerStore; jobs?: JobQueue } = {},
): ProvisionContext & { emitted: ProvisionerEvent[] } {
  const emitted: ProvisionerEvent[] = [];
  return {
    signal,
    logger: silentLogger,
    clock: systemClock,
    events: { emit: (e) => emitted.push(e) },
    store: deps.store ?? memoryProvisionerStore(),
    jobs: deps.jobs ?? recordingJobQueue(),
    emitted,
  };
}

export function baseRequest(overrides: Partial<AllocationRequest> = {}): AllocationRequest {
  return {
    resourceId: randomUUID(),
    requestId: randomUUID(),
    ownerId: 'conformance-user',
    name: 'conformance',
    kind: 'vm',
    spec: { vcpu: 1, memoryMb: 512, diskGb: 1 },
    options: {},
    labels: {},
    expiresAt: null,
    ...overrides,
  };
}

export function describeProvisionerConformance<P extends Provisioner>(opts: ConformanceOptions<P>): void {
  const timeout = opts.timeoutMs ?? 30_000;
  const request = () => (opts.request ?? ((r) => r))(baseRequest());
  let instance: P | undefined;
  const provisioner = async (): Promise<P> => {
    instance ??= await opts.create();
    return instance;
  };
  // The runtime wrapper validates every output against the contract, as the core does.
  const store = opts.store ?? memoryProvisionerStore();
  const jobs = recordingJobQueue();
  const runtime = async () =>
    new RuntimeProvisioner(await provisioner(), { logger: silentLogger, clock: systemClock, store, jobs });
  const call = () => ({ events: conformanceContext().events });
  const ctx = (signal?: AbortSignal) => conformanceContext(signal, { store, jobs });

  describe(`provisioner conformance: ${opts.name ?? 'provisioner'}`, () => {
    afterAll(async () => {
      if (instance) await opts.dispose?.(instance);
    });

    it('has the five contract members', async () => {
      const p = await provisioner();
      expect(p.name).toMatch(/^[a-z][a-z0-9-]{0,62}$/);
      expect(typeof p.isDemo).toBe('boolean');
      for (const m of ['allocate', 'release', 'status'] as const) expect(typeof p[m]).toBe('function');
    });

    it('allocate → status → release → status gone', { timeout }, async () => {
      const rt = await runtime();
      const req = request();
      const allocation = await rt.allocate(req, call());
      expect(allocation.resourceId).toBe(req.resourceId);
      expect(allocation.externalId).not.toBe('');
      const status = await rt.status(allocation, call());
      expect(['running', 'provisioning', 'stopped']).toContain(status.state);
      await rt.release(allocation, call());
      expect((await rt.status(allocation, call())).state).toBe('gone');
    });

    it('status and release find a machine by resourceId when the external id is unknown', { timeout }, async () => {
      const rt = await runtime();
      const req = request();
      const allocation = await rt.allocate(req, call());
      const lookup = { resourceId: req.resourceId, externalId: '' };
      expect(['running', 'provisioning', 'stopped']).toContain((await rt.status(lookup, call())).state);
      expect((await rt.status({ resourceId: randomUUID(), externalId: '' }, call())).state).toBe('gone');
      await rt.release(lookup, call());
      expect((await rt.status(allocation, call())).state).toBe('gone');
    });

    it('release twice succeeds', { timeout }, async () => {
      const rt = await runtime();
      const allocation = await rt.allocate(request(), call());
      await rt.release(allocation, call());
      await expect(rt.release(allocation, call())).resolves.toBeUndefined();
    });

    it('release of an unknown allocation succeeds', { timeout }, async () => {
      const rt = await runtime();
      await expect(
        rt.release({ resourceId: randomUUID(), externalId: `unknown-${randomUUID()}` }, call()),
      ).resolves.toBeUndefined();
    });

    it('allocate is idempotent for the same request', { timeout }, async () => {
      const rt = await runtime();
      const req = request();
      const [a, b] = await Promise.all([rt.allocate(req, call()), rt.allocate(req, call())]);
      const c = await rt.allocate(req, call());
      expect(b.externalId).toBe(a.externalId);
      expect(c.externalId).toBe(a.externalId);
      await rt.release(a, call());
      expect((await rt.status(a, call())).state).toBe('gone');
    });

    it('allocate with an aborted signal does not allocate', { timeout }, async () => {
      const p = await provisioner();
      const controller = new AbortController();
      controller.abort(new Error('caller gave up'));
      const req = request();
      await expect(p.allocate(req, ctx(controller.signal))).rejects.toBeDefined();
    });

    const slow = opts.slowRequest;
    if (slow) {
      it('abort mid-allocate rejects promptly and leaves nothing behind', { timeout }, async () => {
        const p = await provisioner();
        const req = slow(request());
        const controller = new AbortController();
        const pending = p.allocate(req, ctx(controller.signal));
        setTimeout(() => controller.abort(new Error('caller gave up')), 50);
        await expect(pending).rejects.toBeDefined();
        // Whatever half-exists is cleaned up by an idempotent release of the same resource.
        await p.release({ resourceId: req.resourceId, externalId: '' }, ctx());
        expect((await p.status({ resourceId: req.resourceId, externalId: '' }, ctx())).state).toBe('gone');
      });
    } else {
      it('abort during allocate leaves nothing behind (weak form: no slowRequest option given)', {
        timeout,
      }, async () => {
        const p = await provisioner();
        const req = request();
        const controller = new AbortController();
        const pending = p.allocate(req, ctx(controller.signal));
        controller.abort(new Error('caller gave up'));
        await pending.catch(() => undefined);
        await p.release({ resourceId: req.resourceId, externalId: '' }, ctx());
        expect((await p.status({ resourceId: req.resourceId, externalId: '' }, ctx())).state).toBe('gone');
      });
    }

    it('a catalog, when there is one, is valid and every name in it passes its options field', async () => {
      const rt = await runtime();
      if (!rt.has('catalog')) return; // a missing one answers NOT_SUPPORTED (next check)
      const catalog = await rt.catalog(call());
      const picks = [
        ...catalog.images.map((i) => [catalog.imageOption, i.name] as const),
        ...catalog.sizes.map((s) => [catalog.sizeOption, s.name] as const),
      ];
      for (const [field, name] of picks) {
        if (field === undefined) continue;
        expect(() => rt.parseOptions({ [field]: name }), `options.${field} = ${name}`).not.toThrow();
      }
      expect(catalog.images.filter((i) => i.isDefault).length).toBeLessThanOrEqual(1);
      expect(catalog.sizes.filter((s) => s.isDefault).length).toBeLessThanOrEqual(1);
    });

    it('capability members have the right shape, and missing ones answer NOT_SUPPORTED', async () => {
      const p = await provisioner();
      expect(() => checkProvisioner(p)).not.toThrow();
      const rt = await runtime();
      const missing = CAPABILITY_NAMES.filter((c) => !rt.has(c));
      const allocation = { resourceId: randomUUID(), externalId: 'x' };
      for (const name of missing) {
        const attempt = notSupportedCall(rt, name, allocation);
        if (attempt) await expect(attempt).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
      }
    });
  });
}

/** Calls the runtime's method for a capability (none for the schema and job table, checked elsewhere). */
function notSupportedCall(
  rt: RuntimeProvisioner,
  name: CapabilityName,
  allocation: { resourceId: string; externalId: string },
): Promise<unknown> | undefined {
  const call = { events: conformanceContext().events };
  const calls: Partial<Record<CapabilityName, () => Promise<unknown>>> = {
    quote: () => rt.quote({ vcpu: 1, memoryMb: 512, diskGb: 1 }, {}, call),
    start: () => rt.start(allocation, call),
    stop: () => rt.stop(allocation, call),
    restart: () => rt.restart(allocation, call),
    reset: () => rt.reset(allocation, 'hard', call),
    reconfigure: () => rt.reconfigure(allocation, { vcpu: 1 }, call),
    attach: () => rt.attach(allocation, { type: 'disk', id: 'd1' }, call),
    detach: () => rt.detach(allocation, 'd1', call),
    refresh: () => rt.refresh(call),
    inventory: () => rt.inventory(call),
    catalog: () => rt.catalog(call),
    watch: () => rt.watch(async () => {}, new AbortController().signal),
    jobHandlers: () => rt.runJob('conformance-unknown', {}, call),
  };
  return calls[name]?.();
}
