/** What a resource's machine is doing: `running` while it holds one, else `gone`. */
import type { Allocation, AllocationStatus, ProvisionContext } from '@slipway/core';
import { heldBy, MACHINE_PREFIX, type MachineRecord, machineKey } from './machine-record.js';

export async function poolStatus(allocation: Allocation, ctx: ProvisionContext): Promise<AllocationStatus> {
  const machine = await findHeld(allocation, ctx);
  if (!machine) return { state: 'gone' };
  return {
    state: 'running',
    ip: machine.host,
    sshPort: machine.sshPort,
    cockpitUrl: machine.cockpitUrl,
    ...(machine.removed ? { message: 'machine was removed from the pool; it is dropped when released' } : {}),
  };
}

/** By external id when known; by resource id otherwise (crash recovery passes `externalId: ''`). */
async function findHeld(allocation: Allocation, ctx: ProvisionContext): Promise<MachineRecord | undefined> {
  if (allocation.externalId !== '') {
    const direct = await ctx.store.get<MachineRecord>(machineKey(allocation.externalId));
    if (direct && heldBy(direct.value, allocation.resourceId)) return direct.value;
  }
  const all = await ctx.store.list<MachineRecord>(MACHINE_PREFIX);
  return all.map((e) => e.value).find((m) => heldBy(m, allocation.resourceId));
}
