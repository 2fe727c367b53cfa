/** The PoolRefresh capability: re-read the source and swap the pool, keeping allocations. */
import type { PoolRefreshResult, ProvisionContext } from '@slipway/core';
import { MACHINE_PREFIX, type MachineRecord } from './machine-record.js';
import { invalidPool } from './parse-pool.js';
import { loadPool, type PoolSource } from './pool-source.js';
import { syncPool } from './pool-sync.js';
import { enqueueReleaseHook, type ReleaseHookOptions } from './release-hook.js';

export async function refreshPool(
  ctx: ProvisionContext,
  source: PoolSource,
  provisioner: string,
  hook: ReleaseHookOptions | undefined,
): Promise<PoolRefreshResult> {
  const loaded = await loadPool(source);
  // Refused as a whole before anything is written: the running pool stays as it was.
  if (!loaded.ok) throw invalidPool(loaded.problems);
  const result = await syncPool(ctx.store, loaded.machines, ctx.clock.now());

  // Machines whose hook was given up (or never enqueued) get another try on every refresh.
  const machines = await ctx.store.list<MachineRecord>(MACHINE_PREFIX);
  for (const { value } of machines) {
    if (value.status === 'cleaning') await enqueueReleaseHook(ctx, provisioner, value, hook);
  }

  ctx.events.emit({ action: 'pool.refreshed', data: { ...result } });
  for (const id of result.removed) {
    if (result.stillAllocated.includes(id)) {
      ctx.events.emit({ action: 'pool.machine.removed_while_allocated', severity: 'warning', data: { machineId: id } });
    }
  }
  return result;
}
