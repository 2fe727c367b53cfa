/**
 * Make the store match a pool definition. Free machines follow the source (new, changed,
 * maintenance, deleted); held ones keep their user and only get their definition updated or
 * a `removed` flag. Each record is changed with compare-and-set, so replicas syncing at the
 * same time, or allocating meanwhile, converge without clashing.
 */
import type { PoolRefreshResult, ProvisionerStore } from '@slipway/core';
import {
  definitionOf,
  isHeld,
  MACHINE_PREFIX,
  type MachineRecord,
  newRecord,
  SOURCE_META_KEY,
  type SourceMeta,
} from './machine-record.js';
import type { PoolMachine } from './pool-entry.js';
import { fingerprint } from './stable-json.js';
import { updateMachine } from './update-machine.js';

export async function syncPool(
  store: ProvisionerStore,
  machines: readonly PoolMachine[],
  now: Date,
): Promise<PoolRefreshResult> {
  const prevMeta = await store.get<SourceMeta>(SOURCE_META_KEY);
  const before = await store.list<MachineRecord>(MACHINE_PREFIX);
  const prevPoolSize = prevMeta?.value.size ?? before.filter((e) => !e.value.removed).length;
  const wanted = new Set(machines.map((m) => m.id));

  const added: string[] = [];
  for (const machine of machines) {
    const { before: was } = await updateMachine(store, machine.id, (current) => apply(current, machine, now));
    if (!was || was.removed) added.push(machine.id);
  }

  const removed: string[] = [];
  for (const { value } of before) {
    if (wanted.has(value.id)) continue;
    const { before: was } = await updateMachine(store, value.id, (current) => {
      if (!current) return undefined;
      // Held machines stay with their user, flagged; they are dropped when freed.
      return isHeld(current) ? { ...current, removed: true } : null;
    });
    if (was && !was.removed) removed.push(value.id);
  }

  await store.put<SourceMeta>(SOURCE_META_KEY, {
    fingerprint: fingerprint(machines),
    size: machines.length,
    syncedAt: now.toISOString(),
  });
  const after = await store.list<MachineRecord>(MACHINE_PREFIX);
  const stillAllocated = after.filter((e) => e.value.status === 'allocated').map((e) => e.value.id);
  return { prevPoolSize, poolSize: machines.length, added, removed, stillAllocated };
}

function apply(current: MachineRecord | undefined, machine: PoolMachine, now: Date): MachineRecord {
  if (!current) return { ...newRecord(machine), since: now.toISOString() };
  const next: MachineRecord = { ...current, ...definitionOf(machine), removed: false };
  if (isHeld(current) || current.status === machine.status) return next;
  return { ...next, status: machine.status, since: now.toISOString() };
}
