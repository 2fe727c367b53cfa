import type { ProvisionerStore } from '@slipway/core';
import { type MachineRecord, machineKey } from './machine-record.js';
import { sameJson } from './stable-json.js';

/** Next value for a record: a record to write, `null` to delete it, `undefined` to leave it. */
export type MachineChange = (current: MachineRecord | undefined) => MachineRecord | null | undefined;

const MAX_ATTEMPTS = 50;

/**
 * Compare-and-set loop on one machine record. Every writer (allocate, release, refresh, the
 * release hook) goes through the version check, so concurrent replicas never overwrite each
 * other; a loser re-reads and decides again. Returns the record before and after.
 */
export async function updateMachine(
  store: ProvisionerStore,
  id: string,
  change: MachineChange,
): Promise<{ before: MachineRecord | undefined; after: MachineRecord | undefined }> {
  const key = machineKey(id);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const entry = await store.get<MachineRecord>(key);
    const before = entry?.value;
    const next = change(before);
    if (next === undefined || (next !== null && before !== undefined && sameJson(next, before))) {
      return { before, after: before };
    }
    if (next === null) {
      if (!entry || (await store.delete(key, entry.version))) return { before, after: undefined };
      continue;
    }
    const written = await store.compareAndSet(key, entry?.version ?? null, next);
    if (written) return { before, after: written.value };
  }
  throw new Error(`pool machine ${id}: gave up after ${MAX_ATTEMPTS} conflicting writes`);
}
