/**
 * The pool provisioner: hands out pre-provisioned machines. All state lives in `ctx.store`
 * (shared by every replica); the provisioner object itself only remembers, per store,
 * that it has synced its source once.
 */
import {
  type Allocation,
  type AllocationStatus,
  PROVISIONER_NAME,
  type PoolRefresh,
  type ProvisionContext,
  type Provisioner,
  SlipwayError,
} from '@slipway/core';
import type { JobHandlers, ProvisionerStore } from './core-types.js';
import { heldBy, MACHINE_PREFIX, type MachineRecord, machineKey, SOURCE_META_KEY, type SourceMeta, toAllocation } from './machine-record.js';
import { parsePool } from './parse-pool.js';
import { allocateMachine } from './pool-allocate.js';
import { type PoolMachineView, poolAllocations } from './pool-allocations.js';
import { releaseMachines } from './pool-release.js';
import { loadPool, type PoolSource } from './pool-source.js';
import { syncPool } from './pool-sync.js';
import { enqueueReleaseHook, RELEASE_HOOK_JOB, type ReleaseHookOptions, releaseHookHandler } from './release-hook.js';
import { fingerprint } from './stable-json.js';

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
  readonly fetch?: typeof fetch;
}

export type PoolProvisioner = Provisioner &
  PoolRefresh &
  JobHandlers & {
    readonly source: PoolSource;
    /** Every machine with its holder, for the admin view. */
    allocations(target: ProvisionContext | ProvisionerStore): Promise<PoolMachineView[]>;
  };

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
  const hook = options.releaseHook;
  const seeded = new WeakMap<ProvisionerStore, Promise<void>>();

  /** Sync the source into this store once, if the store holds no pool or another one. */
  function ensureSeeded(ctx: ProvisionContext): Promise<void> {
    let done = seeded.get(ctx.store);
    if (!done) {
      done = seed(ctx).catch((error: unknown) => {
        seeded.delete(ctx.store);
        throw error;
      });
      seeded.set(ctx.store, done);
    }
    return done;
  }

  async function seed(ctx: ProvisionContext): Promise<void> {
    const meta = await ctx.store.get<SourceMeta>(SOURCE_META_KEY);
    const loaded = await loadPool(options.source);
    if (!loaded.ok) {
      // Another replica synced a pool already: keep serving it rather than fail every request.
      if (meta) {
        ctx.logger.warn('pool source is invalid; serving the pool already in the store', { problems: loaded.problems });
        return;
      }
      throw invalidPool(loaded.problems);
    }
    if (meta?.value.fingerprint === fingerprint(loaded.machines)) return;
    const result = await syncPool(ctx.store, loaded.machines, ctx.clock.now());
    ctx.events.emit({ action: 'pool.synced', data: { ...result } });
  }

  async function findHeld(allocation: Allocation, ctx: ProvisionContext): Promise<MachineRecord | undefined> {
    if (allocation.externalId !== '') {
      const direct = await ctx.store.get<MachineRecord>(machineKey(allocation.externalId));
      if (direct && heldBy(direct.value, allocation.resourceId)) return direct.value;
    }
    const all = await ctx.store.list<MachineRecord>(MACHINE_PREFIX);
    return all.map((e) => e.value).find((m) => heldBy(m, allocation.resourceId));
  }

  return {
    name,
    isDemo: options.demo ?? false,
    source: options.source,

    async allocate(req, ctx) {
      ctx.signal.throwIfAborted();
      await ensureSeeded(ctx);
      return toAllocation(await allocateMachine(req, ctx));
    },

    async release(allocation, ctx) {
      await releaseMachines(allocation, ctx, name, hook);
    },

    async status(allocation, ctx): Promise<AllocationStatus> {
      const machine = await findHeld(allocation, ctx);
      if (!machine) return { state: 'gone' };
      return {
        state: 'running',
        ip: machine.host,
        sshPort: machine.sshPort,
        cockpitUrl: machine.cockpitUrl,
        ...(machine.removed ? { message: 'machine was removed from the pool; it is dropped when released' } : {}),
      };
    },

    async refresh(ctx) {
      const loaded = await loadPool(options.source);
      if (!loaded.ok) throw invalidPool(loaded.problems);
      const result = await syncPool(ctx.store, loaded.machines, ctx.clock.now());
      seeded.set(ctx.store, Promise.resolve());
      // Machines whose hook was given up (or never enqueued) get another try on every refresh.
      const cleaning = (await ctx.store.list<MachineRecord>(MACHINE_PREFIX)).filter((e) => e.value.status === 'cleaning');
      for (const { value } of cleaning) await enqueueReleaseHook(ctx, name, value, hook);
      ctx.events.emit({ action: 'pool.refreshed', data: { ...result } });
      for (const id of result.removed) {
        if (result.stillAllocated.includes(id)) {
          ctx.events.emit({ action: 'pool.machine.removed_while_allocated', severity: 'warning', data: { machineId: id } });
        }
      }
      return result;
    },

    jobHandlers: { [RELEASE_HOOK_JOB]: releaseHookHandler(hook, options.fetch ?? globalThis.fetch) },

    allocations(target) {
      return poolAllocations('store' in target ? target.store : target);
    },
  };
}

export function invalidPool(problems: readonly string[]): SlipwayError {
  return new SlipwayError('VALIDATION_FAILED', `invalid pool: ${problems.join('; ')}`, {
    details: { field: 'pool', problems: [...problems] },
  });
}
