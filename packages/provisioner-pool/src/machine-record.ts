/**
 * How a machine lives in the provisioner store. The source's view (`sourceStatus`, `removed`)
 * is kept apart from who holds the machine (`status` and the assignment fields), so a refresh
 * can change the first without ever yanking a machine from its user.
 */
import type { Allocation } from '@slipway/core';
import type { PoolMachine } from './pool-entry.js';

export type MachineStatus = 'available' | 'maintenance' | 'allocated' | 'cleaning';

/** The source's description of the machine (minus its status) plus who holds it. */
export interface MachineRecord extends Omit<PoolMachine, 'status'> {
  /** What the pool source says; a held machine goes back to this when freed. */
  readonly sourceStatus: 'available' | 'maintenance';
  readonly status: MachineStatus;
  /** Gone from the source while held: dropped from the store once freed. */
  readonly removed: boolean;
  /** Holder (`allocated`) or last holder being cleaned up after (`cleaning`); null when free. */
  readonly resourceId: string | null;
  readonly requestId: string | null;
  readonly ownerId: string | null;
  /** ISO time of the last status change. */
  readonly since: string | null;
}

/** `assignment/<resourceId>`: which machine a resource holds, for idempotent allocate. */
export interface AssignmentRecord {
  readonly machineId: string;
  readonly requestId: string;
}

/** `meta/source`: the pool definition last synced into the store. */
export interface SourceMeta {
  readonly fingerprint: string;
  readonly size: number;
  readonly syncedAt: string;
}

export const MACHINE_PREFIX = 'machine/';
export const machineKey = (id: string): string => `${MACHINE_PREFIX}${id}`;
export const assignmentKey = (resourceId: string): string => `assignment/${resourceId}`;
export const SOURCE_META_KEY = 'meta/source';

export const isHeld = (m: MachineRecord): boolean => m.status === 'allocated' || m.status === 'cleaning';
export const heldBy = (m: MachineRecord, resourceId: string): boolean =>
  m.status === 'allocated' && m.resourceId === resourceId;

/** A freshly seeded record for a machine of the source. */
export function newRecord(machine: PoolMachine): MachineRecord {
  return {
    ...definitionOf(machine),
    status: machine.status,
    removed: false,
    resourceId: null,
    requestId: null,
    ownerId: null,
    since: null,
  };
}

/** The fields a refresh may overwrite. */
export function definitionOf(m: PoolMachine): Omit<MachineRecord, 'status' | 'removed' | keyof Holder> {
  return {
    id: m.id,
    name: m.name,
    host: m.host,
    sshPort: m.sshPort,
    cockpitUrl: m.cockpitUrl,
    size: m.size,
    labels: m.labels,
    sourceStatus: m.status,
  };
}

type Holder = Pick<MachineRecord, 'resourceId' | 'requestId' | 'ownerId' | 'since'>;

/** The machine with nobody holding it: back to what the source says. */
export function freed(m: MachineRecord, now: Date): MachineRecord {
  return { ...m, status: m.sourceStatus, resourceId: null, requestId: null, ownerId: null, since: now.toISOString() };
}

export function toAllocation(m: MachineRecord): Allocation {
  return {
    resourceId: m.resourceId ?? '',
    externalId: m.id,
    ip: m.host,
    sshPort: m.sshPort,
    cockpitUrl: m.cockpitUrl,
    state: 'running',
    data: { machineId: m.id, machineName: m.name },
  };
}
