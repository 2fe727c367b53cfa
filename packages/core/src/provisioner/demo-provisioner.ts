/**
 * The reference provisioner: allocates nothing real, remembers its "machines" in memory.
 * Used by `npm start` in demo mode, by the tests, and as the conformance suite's self-test.
 */
import { z } from 'zod';
import { SlipwayError } from '../errors.js';
import { sleep } from '../util/abort.js';
import type { ValidatesOptions } from './capabilities.js';
import type { Allocation, AllocationRequest, AllocationStatus, Provisioner } from './provisioner.js';

export interface DemoProvisionerOptions {
  /** Registry name; default "demo". */
  name?: string;
  /** Delay of every allocate in ms (honours abort). Default 0. */
  allocateDelayMs?: number;
  /** Delay of every release in ms. Default 0. */
  releaseDelayMs?: number;
  /** Decide per request whether allocate fails. Default: never (unless the request asks). */
  shouldFail?: (req: AllocationRequest, attempt: number) => boolean;
}

/** Options a create request may pass to the demo provisioner, to try failure paths by hand. */
export const demoOptionsSchema = z
  .object({
    /** Make this allocation fail. */
    fail: z.boolean().optional(),
    /** Make this allocation take this long (ms). */
    delayMs: z.number().int().min(0).max(60_000).optional(),
  })
  .strict();

interface DemoMachine {
  allocation: Allocation;
  released: boolean;
}

export type DemoProvisioner = Provisioner &
  ValidatesOptions & {
    /** Machines currently allocated (not released); for tests. */
    readonly liveCount: () => number;
  };

export function demoProvisioner(options: DemoProvisionerOptions = {}): DemoProvisioner {
  const machines = new Map<string, DemoMachine>();
  let attempts = 0;
  let serial = 0;

  return {
    name: options.name ?? 'demo',
    isDemo: true,
    optionsSchema: demoOptionsSchema,
    liveCount: () => [...machines.values()].filter((m) => !m.released).length,

    async allocate(req, ctx) {
      const existing = machines.get(req.resourceId);
      if (existing && !existing.released) return existing.allocation;
      ctx.signal.throwIfAborted();
      attempts += 1;
      const opts = demoOptionsSchema.parse(req.options);
      const delay = opts.delayMs ?? options.allocateDelayMs ?? 0;
      if (delay > 0) await sleep(delay, ctx.signal);
      if (opts.fail || options.shouldFail?.(req, attempts)) {
        throw new Error(`demo allocation of ${req.name} failed on purpose`);
      }
      serial += 1;
      const allocation: Allocation = {
        resourceId: req.resourceId,
        externalId: `demo-${req.resourceId.slice(0, 8)}`,
        ip: `10.0.${(serial >> 8) & 255}.${serial & 255}`,
        sshPort: 22,
        cockpitUrl: null,
        state: 'running',
        data: { requestId: req.requestId },
      };
      machines.set(req.resourceId, { allocation, released: false });
      ctx.events.emit({ action: 'demo.allocated', data: { externalId: allocation.externalId } });
      return allocation;
    },

    async release(allocation, ctx) {
      if ((options.releaseDelayMs ?? 0) > 0) await sleep(options.releaseDelayMs ?? 0, ctx.signal);
      const machine = machines.get(allocation.resourceId);
      if (machine) machine.released = true;
    },

    async status(allocation): Promise<AllocationStatus> {
      const machine = machines.get(allocation.resourceId);
      if (!machine || machine.released) return { state: 'gone' };
      if (allocation.externalId !== '' && machine.allocation.externalId !== allocation.externalId) {
        throw new SlipwayError('PROVISIONER_FAILED', `demo machine ${allocation.externalId} does not match`);
      }
      return { state: 'running', ip: machine.allocation.ip, sshPort: machine.allocation.sshPort };
    },
  };
}
