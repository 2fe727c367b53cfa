/**
 * The reference provisioner: allocates nothing real. Its "machines" live in memory, or with
 * `persistent: true` in `ctx.store` (the core's database), so they survive a restart of the
 * server — which is what `npm start` and the crash tests use.
 * Used by demo mode, by the tests, and as the conformance suite's self-test.
 */
import { z } from 'zod';
import { faultPoint } from '../faults.js';
import { sleep } from '../util/abort.js';
import type { HasCatalog, Hotplug, PowerControl, Reconfigurable, ValidatesOptions } from './capabilities.js';
import { defineProvisioner } from './define-provisioner.js';
import { DEMO_CATALOG, DEMO_IMAGE_NAMES, DEMO_SIZE_NAMES } from './demo-catalog.js';
import { type DemoMachine, demoMachineOps, machineKey as key } from './demo-machine-ops.js';
import { memoryProvisionerStore } from './memory-provisioner-store.js';
import type { Allocation, AllocationRequest, AllocationStatus, ProvisionContext, Provisioner } from './provisioner.js';
import type { ProvisionerStore } from './provisioner-store.js';

export interface DemoProvisionerOptions {
  /** Registry name; default "demo". */
  name?: string;
  /** Keep machines in `ctx.store` (the database) instead of this process's memory. */
  persistent?: boolean;
  /** Delay of every allocate in ms (honours abort). Default 0. */
  allocateDelayMs?: number;
  /** Delay of every release in ms. Default 0. */
  releaseDelayMs?: number;
  /** Decide per request whether allocate fails. Default: never (unless the request asks). */
  shouldFail?: (req: AllocationRequest<DemoOptions>, attempt: number) => boolean;
  /** Detaches answer `pending` (as if the guest had not acknowledged); the next boot completes them. */
  detachPending?: boolean;
}

/** Options a create request may pass to the demo provisioner, to try failure paths by hand. */
export const demoOptionsSchema = z
  .object({
    /** Make this allocation fail. */
    fail: z.boolean().optional(),
    /** Make this allocation take this long (ms). */
    delayMs: z.number().int().min(0).max(60_000).optional(),
    /** One of the catalog's images (names only: a demo machine is the same whatever it runs). */
    image: z
      .string()
      .refine((name) => DEMO_IMAGE_NAMES.includes(name), {
        message: `unknown image; one of: ${DEMO_IMAGE_NAMES.join(', ')}`,
      })
      .optional(),
    /** One of the catalog's sizes; the request's spec is what it gets. */
    size: z
      .string()
      .refine((name) => DEMO_SIZE_NAMES.includes(name), {
        message: `unknown size; one of: ${DEMO_SIZE_NAMES.join(', ')}`,
      })
      .optional(),
  })
  .strict();

export type DemoOptions = z.output<typeof demoOptionsSchema>;

export type DemoProvisioner = Provisioner<DemoOptions> &
  ValidatesOptions<DemoOptions> &
  PowerControl &
  Reconfigurable &
  Hotplug &
  HasCatalog & {
    /** Machines currently allocated (not released), in this process's memory; for tests. */
    readonly liveCount: () => number;
  };

export function demoProvisioner(options: DemoProvisionerOptions = {}): DemoProvisioner {
  const local = memoryProvisionerStore();
  const storeOf = (ctx: Pick<ProvisionContext, 'store'>): ProvisionerStore => (options.persistent ? ctx.store : local);
  let attempts = 0;
  let live = 0;
  const seen = new Map<string, boolean>();
  const track = (resourceId: string, alive: boolean) => {
    if (seen.get(resourceId) === alive) return;
    if (alive) live += 1;
    else if (seen.has(resourceId)) live -= 1;
    seen.set(resourceId, alive);
  };

  return defineProvisioner<DemoOptions, DemoProvisioner>({
    name: options.name ?? 'demo',
    isDemo: true,
    optionsSchema: demoOptionsSchema,
    liveCount: () => live,
    catalog: () => DEMO_CATALOG,
    ...demoMachineOps(storeOf, { detachPending: options.detachPending ?? false }),

    async allocate(req, ctx) {
      const store = storeOf(ctx);
      const existing = await store.get<DemoMachine>(key(req.resourceId));
      if (existing && !existing.value.released) return existing.value.allocation;
      ctx.signal.throwIfAborted();
      attempts += 1;
      const delay = req.options.delayMs ?? options.allocateDelayMs ?? 0;
      if (delay > 0) await sleep(delay, ctx.signal);
      if (req.options.fail || options.shouldFail?.(req, attempts)) {
        throw new Error(`demo allocation of ${req.name} failed on purpose`);
      }
      const n = Number.parseInt(req.resourceId.slice(0, 4), 16);
      const allocation: Allocation = {
        resourceId: req.resourceId,
        externalId: `demo-${req.resourceId.slice(0, 8)}`,
        ip: `10.0.${(n >> 8) & 255}.${n & 255}`,
        sshPort: 22,
        cockpitUrl: null,
        state: 'running',
        data: { requestId: req.requestId },
      };
      // Idempotent under concurrency: only the first writer's machine counts.
      const written = await store.compareAndSet<DemoMachine>(key(req.resourceId), existing?.version ?? null, {
        allocation,
        released: false,
        power: 'running',
        size: { vcpu: req.spec.vcpu, memoryMb: req.spec.memoryMb },
        devices: [],
      });
      if (!written) {
        const winner = await store.get<DemoMachine>(key(req.resourceId));
        if (winner && !winner.value.released) return winner.value.allocation;
        throw new Error(`demo allocation of ${req.name} raced with a release`);
      }
      track(req.resourceId, true);
      faultPoint('allocate.during');
      ctx.events.emit({ action: 'demo.allocated', data: { externalId: allocation.externalId } });
      return allocation;
    },

    async release(allocation, ctx) {
      if ((options.releaseDelayMs ?? 0) > 0) await sleep(options.releaseDelayMs ?? 0, ctx.signal);
      const store = storeOf(ctx);
      const machine = await store.get<DemoMachine>(key(allocation.resourceId));
      if (machine && !machine.value.released) {
        // Kept a while for late status calls, then aged out by the core's retention.
        await store.put<DemoMachine>(
          key(allocation.resourceId),
          { ...machine.value, released: true },
          { retired: true },
        );
        track(allocation.resourceId, false);
        faultPoint('release.during');
      }
    },

    async status(allocation, ctx): Promise<AllocationStatus> {
      const machine = await storeOf(ctx).get<DemoMachine>(key(allocation.resourceId));
      if (!machine || machine.value.released) return { state: 'gone' };
      const a = machine.value.allocation;
      return { state: machine.value.power ?? 'running', ip: a.ip ?? null, sshPort: a.sshPort ?? null };
    },
  });
}
