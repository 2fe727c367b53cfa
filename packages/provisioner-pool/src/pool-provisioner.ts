/**
 * The pool provisioner: hands out pre-provisioned machines. All state lives in `ctx.store`
 * (shared by every replica); the provisioner object only remembers, per store, that it has
 * synced its source once.
 */

import type { JobHandlers, ProvisionerStore } from '@slipway/core';
import {
  type PoolRefresh,
  PROVISIONER_NAME,
  type ProvisionContext,
  type Provisioner,
  SlipwayError,
} from '@slipway/core';
import { toAllocation } from './machine-record.js';
import { invalidPool, parsePool } from './parse-pool.js';
import { allocateMachine } from './pool-allocate.js';
import { type PoolMachineView, poolAllocations } from './pool-allocations.js';
import { refreshPool } from './pool-refresh.js';
import { releaseMachines } from './pool-release.js';
import { poolSeeding } from './pool-seeding.js';
import type { PoolSource } from './pool-source.js';
import { poolStatus } from './pool-status.js';
import { type FetchLike, RELEASE_HOOK_JOB, type ReleaseHookOptions, releaseHookHandler } from './release-hook.js';

export interface PoolProvisionerOptions {
  /** Registry name. Default `pool`. */
  readonly name?: string;
  /** Where the machines come from; re-read on every refresh. */
  readonly source: PoolSource;
  /** The pool allocates nothing real (the built-in demo pool). Default false. */
  readonly demo?: boolean;
  /** Called after each release; without it a released machine is available again at once. */
  readonly releaseHook?: ReleaseHookOptions;
  /** For the release hook. Default: the global `fetch`. */
  readonly fetch?: FetchLike;
}

export type PoolProvisioner = Provisioner &
  PoolRefresh &
  JobHandlers & {
    readonly source: PoolSource;
    /** Every machine with its holder, for the admin view. */
    allocations(target: ProvisionContext | ProvisionerStore): Promise<PoolMachineView[]>;
  };

/** Marks pool provisioners across copies of this package, so a host can find its pools without casts. */
const POOL_BRAND = Symbol.for('@slipway/provisioner-pool:PoolProvisioner');

/** Whether `p` was made by `poolProvisioner()` (of any copy of this package). */
export function isPoolProvisioner(p: Provisioner): p is PoolProvisioner {
  return (p as unknown as Record<symbol, unknown>)[POOL_BRAND] === true;
}

export function poolProvisioner(options: PoolProvisionerOptions): PoolProvisioner {
  const name = options.name ?? 'pool';
  if (!PROVISIONER_NAME.test(name)) {
    throw new SlipwayError('VALIDATION_FAILED', `pool provisioner name ${JSON.stringify(name)} is invalid`, {
      details: { field: 'name' },
    });
  }
  if (options.source.kind === 'static') {
    // A programmatic pool is checked now: a bad one is a bug in the embedding app.
    const parsed = parsePool(options.source.machines);
    if (!parsed.ok) throw invalidPool(parsed.problems);
  }
  const { source, releaseHook: hook } = options;
  const seeding = poolSeeding(source);
  // Resolved per call, so a test's or an embedder's later stub of the global is used.
  const fetchFn: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));

  const pool: PoolProvisioner = {
    name,
    isDemo: options.demo ?? false,
    source,

    async allocate(req, ctx) {
      ctx.signal.throwIfAborted();
      await seeding.ensure(ctx);
      return toAllocation(await allocateMachine(req, ctx));
    },

    release: (allocation, ctx) => releaseMachines(allocation, ctx, name, hook),

    status: poolStatus,

    async refresh(ctx) {
      const result = await refreshPool(ctx, source, name, hook);
      seeding.markSynced(ctx.store);
      return result;
    },

    jobHandlers: { [RELEASE_HOOK_JOB]: releaseHookHandler(hook, fetchFn) },

    allocations: (target) => poolAllocations('store' in target ? target.store : target),
  };
  Object.defineProperty(pool, POOL_BRAND, { value: true });
  return pool;
}
