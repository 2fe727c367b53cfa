/** The admin view: every machine of the pool with who holds it. Cost lives on the core's resource row. */
import type { ProvisionerStore } from '@slipway/core';
import { MACHINE_PREFIX, type MachineRecord } from './machine-record.js';

/** A machine record as operators see it: `machineId`, and the source's status as a flag. */
export interface PoolMachineView extends Omit<MachineRecord, 'id' | 'sourceStatus'> {
  readonly machineId: string;
  /** The source marks the machine for maintenance (it is not handed out once free). */
  readonly maintenance: boolean;
}

export async function poolAllocations(store: ProvisionerStore): Promise<PoolMachineView[]> {
  const entries = await store.list<MachineRecord>(MACHINE_PREFIX);
  return entries.map(({ value: m }) => ({
    machineId: m.id,
    name: m.name,
    host: m.host,
    sshPort: m.sshPort,
    cockpitUrl: m.cockpitUrl,
    size: m.size,
    labels: m.labels,
    status: m.status,
    maintenance: m.sourceStatus === 'maintenance',
    removed: m.removed,
    resourceId: m.resourceId,
    ownerId: m.ownerId,
    requestId: m.requestId,
    since: m.since,
  }));
}
