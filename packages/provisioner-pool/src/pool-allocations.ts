/** The admin view: every machine of the pool with who holds it. Cost lives on the core's resource row. */
import type { ProvisionerStore } from '@slipway/core';
import { MACHINE_PREFIX, type MachineRecord, type MachineStatus } from './machine-record.js';
import type { PoolSize } from './pool-entry.js';

export interface PoolMachineView {
  readonly machineId: string;
  readonly name: string;
  readonly host: string;
  readonly sshPort: number;
  readonly cockpitUrl: string | null;
  readonly size: PoolSize;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: MachineStatus;
  /** The source marks the machine for maintenance (it is not handed out once free). */
  readonly maintenance: boolean;
  /** Gone from the source; still held, dropped when freed. */
  readonly removed: boolean;
  /** Holder while `allocated`, last holder while `cleaning`; null when free. */
  readonly resourceId: string | null;
  readonly ownerId: string | null;
  readonly requestId: string | null;
  /** ISO time of the last status change. */
  readonly since: string | null;
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
