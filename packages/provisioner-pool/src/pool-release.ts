/**
 * Release whatever a resource holds. Idempotent: unknown or already released resources
 * succeed, and a release interrupted after marking the machine `cleaning` re-enqueues its hook.
 */
import type { Allocation, ProvisionContext } from '@slipway/core';
import { assignmentKey, freed, isHeld, MACHINE_PREFIX, type MachineRecord } from './machine-record.js';
import { enqueueReleaseHook, type ReleaseHookOptions } from './release-hook.js';
import { updateMachine } from './update-machine.js';

export async function releaseMachines(
  allocation: Allocation,
  ctx: ProvisionContext,
  provisioner: string,
  hook: ReleaseHookOptions | undefined,
): Promise<void> {
  const { resourceId } = allocation;
  // Scan by resource id rather than trust externalId: it may be '' and crash leftovers carry the id too.
  const held = (await ctx.store.list<MachineRecord>(MACHINE_PREFIX))
    .map((e) => e.value)
    .filter((m) => m.resourceId === resourceId && isHeld(m));

  for (const machine of held) {
    const now = ctx.clock.now();
    const { before, after } = await updateMachine(ctx.store, machine.id, (current) => {
      if (current?.status !== 'allocated' || current.resourceId !== resourceId) return undefined;
      if (hook) return { ...current, status: 'cleaning', since: now.toISOString() };
      return current.removed ? null : freed(current, now);
    });
    if (after?.status === 'cleaning' && after.resourceId === resourceId) {
      await enqueueReleaseHook(ctx, provisioner, after, hook);
    }
    if (before?.status === 'allocated' && before.resourceId === resourceId) {
      ctx.events.emit({
        action: 'pool.released',
        data: { machineId: machine.id, machineName: machine.name, cleaning: Boolean(hook) },
      });
    }
  }
  const assignment = await ctx.store.get(assignmentKey(resourceId));
  if (assignment) await ctx.store.delete(assignmentKey(resourceId), assignment.version);
}
