/**
 * Lazy sync of the configured source into the store, once per store and provisioner
 * instance, when the store holds no pool or a different one (e.g. after a restart with a
 * new VM_POOL_JSON). Refresh is the explicit re-read.
 */
import type { ProvisionContext, ProvisionerStore } from '@slipway/core';
import { SOURCE_META_KEY, type SourceMeta } from './machine-record.js';
import { invalidPool } from './parse-pool.js';
import { loadPool, type PoolSource } from './pool-source.js';
import { syncPool } from './pool-sync.js';
import { fingerprint } from './stable-json.js';

export interface PoolSeeding {
  ensure(ctx: ProvisionContext): Promise<void>;
  /** A refresh just synced this store: no lazy sync needed. */
  markSynced(store: ProvisionerStore): void;
}

export function poolSeeding(source: PoolSource): PoolSeeding {
  const seeded = new WeakMap<ProvisionerStore, Promise<void>>();

  async function seed(ctx: ProvisionContext): Promise<void> {
    const meta = await ctx.store.get<SourceMeta>(SOURCE_META_KEY);
    const loaded = await loadPool(source);
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

  return {
    ensure(ctx) {
      let done = seeded.get(ctx.store);
      if (!done) {
        // Concurrent first calls share one sync; a failed one is tried again next time.
        done = seed(ctx).catch((error: unknown) => {
          seeded.delete(ctx.store);
          throw error;
        });
        seeded.set(ctx.store, done);
      }
      return done;
    },
    markSynced(store) {
      seeded.set(store, Promise.resolve());
    },
  };
}
