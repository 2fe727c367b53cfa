/**
 * Assign a machine to a request, atomically across replicas and idempotently per resource.
 *
 * The claim writes the resource id into the machine record in the same atomic step, so a
 * crash before `assignment/<resourceId>` is written leaves a machine a retry can find. The
 * assignment is created with compare-and-set: when two attempts for one resource race, the
 * first assignment wins and the other attempt gives its machine back.
 */

import type { ProvisionerStore, StoreEntry } from '@slipway/core';
import { type AllocationRequest, type ProvisionContext, SlipwayError } from '@slipway/core';
import { claimOrder, fits } from './machine-fit.js';
import {
  type AssignmentRecord,
  assignmentKey,
  freed,
  heldBy,
  MACHINE_PREFIX,
  type MachineRecord,
  machineKey,
} from './machine-record.js';
import { updateMachine } from './update-machine.js';
import { wait } from './wait.js';

/** Claims that find every candidate locked by concurrent writers retry this often before giving up. */
const MAX_BUSY_ROUNDS = 20;
const MAX_ROUNDS = 100;

export async function allocateMachine(req: AllocationRequest, ctx: ProvisionContext): Promise<MachineRecord> {
  const { store } = ctx;
  const key = assignmentKey(req.resourceId);
  let busyRounds = 0;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    ctx.signal.throwIfAborted();
    const assignment = await store.get<AssignmentRecord>(key);
    if (assignment) {
      const machine = await store.get<MachineRecord>(machineKey(assignment.value.machineId));
      if (machine && heldBy(machine.value, req.resourceId)) return machine.value;
    }

    const machines = (await store.list<MachineRecord>(MACHINE_PREFIX)).map((e) => e.value);
    const orphan = machines.find((m) => heldBy(m, req.resourceId));
    if (orphan) {
      if (await store.compareAndSet(key, assignment?.version ?? null, assignmentOf(orphan, req))) return orphan;
      continue;
    }
    if (assignment) {
      // Points at a machine this resource no longer holds: clear it so a new claim can settle.
      await store.delete(key, assignment.version);
      continue;
    }

    const candidates = machines
      .filter((m) => m.status === 'available' && fits(m, req))
      .sort(claimOrder(req.resourceId))
      .map((m) => machineKey(m.id));
    if (candidates.length === 0) throw exhausted(req, machines);

    ctx.signal.throwIfAborted();
    const since = ctx.clock.now().toISOString();
    const claimed = await store.claim<MachineRecord>({ keys: candidates, where: { status: 'available' } }, (e) => ({
      ...e.value,
      status: 'allocated',
      resourceId: req.resourceId,
      requestId: req.requestId,
      ownerId: req.ownerId,
      since,
    }));
    if (!claimed) {
      // Every candidate was taken or locked by a concurrent claim or refresh; look again.
      busyRounds += 1;
      if (busyRounds > MAX_BUSY_ROUNDS) throw exhausted(req, machines);
      await wait(5 + Math.random() * 20 * busyRounds, ctx.signal);
      continue;
    }
    const settled = await settle(store, claimed, req, ctx.clock.now());
    if (settled) {
      ctx.events.emit({ action: 'pool.allocated', data: { machineId: settled.id, machineName: settled.name } });
      return settled;
    }
  }
  throw new SlipwayError('PROVISIONER_FAILED', `pool: could not settle an allocation for ${req.resourceId}`);
}

/** Record the claim as this resource's assignment; undefined means: look again. */
async function settle(
  store: ProvisionerStore,
  claimed: StoreEntry<MachineRecord>,
  req: AllocationRequest,
  now: Date,
): Promise<MachineRecord | undefined> {
  const machine = claimed.value;
  // A refresh may have changed the machine between listing and claiming.
  if (
    fits(machine, req) &&
    (await store.compareAndSet(assignmentKey(req.resourceId), null, assignmentOf(machine, req)))
  ) {
    return machine;
  }
  const winner = await store.get<AssignmentRecord>(assignmentKey(req.resourceId));
  if (winner?.value.machineId === machine.id) return machine;
  await giveBack(store, machine.id, req.resourceId, now);
  return undefined;
}

/** Undo a claim that was never handed to the user: no release hook needed. */
export async function giveBack(
  store: ProvisionerStore,
  machineId: string,
  resourceId: string,
  now: Date,
): Promise<void> {
  await updateMachine(store, machineId, (current) =>
    current && heldBy(current, resourceId) ? (current.removed ? null : freed(current, now)) : undefined,
  );
}

const assignmentOf = (m: MachineRecord, req: AllocationRequest): AssignmentRecord => ({
  machineId: m.id,
  requestId: req.requestId,
});

function exhausted(req: AllocationRequest, machines: readonly MachineRecord[]): SlipwayError {
  const { vcpu, memoryMb, diskGb } = req.spec;
  const labels = Object.entries(req.labels).map(([k, v]) => `${k}=${v}`);
  const wanted = `${vcpu} vCPU, ${memoryMb} MB RAM, ${diskGb} GB disk${labels.length ? `, labels ${labels.join(',')}` : ''}`;
  const available = machines.filter((m) => m.status === 'available').length;
  const poolSize = machines.filter((m) => !m.removed).length;
  return new SlipwayError(
    'CAPACITY_EXHAUSTED',
    `pool exhausted: no available machine with at least ${wanted} (${available} of ${poolSize} available)`,
    { details: { requested: { vcpu, memoryMb, diskGb, labels: req.labels }, available, poolSize } },
  );
}
