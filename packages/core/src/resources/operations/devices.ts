/** Hot-plugged devices of a resource: the new device of an attach, and state changes of the list. */
import { randomBytes } from 'node:crypto';
import { validationError } from '../../errors.js';
import type { AttachDeviceInput, DeviceState, ResourceDevice } from '../../operation-domain.js';

/** The device an attach asks for: its id generated when absent, unique on the resource; a disk has a size. */
export function newDevice(input: AttachDeviceInput, existing: readonly ResourceDevice[]): ResourceDevice {
  if (input.type === 'disk' && input.sizeGb === undefined) throw validationError('sizeGb', 'a disk needs its size');
  if (input.type !== 'disk' && input.sizeGb !== undefined) throw validationError('sizeGb', 'only disks have a size');
  const id = input.id ?? `${input.type}-${randomBytes(4).toString('hex')}`;
  if (existing.some((d) => d.id === id)) throw validationError('id', `a device ${id} is already on the resource`);
  return { id, type: input.type, state: 'ATTACHING', ...(input.sizeGb !== undefined ? { sizeGb: input.sizeGb } : {}) };
}

/** The list with device `id` in `state` (its error replaced by `error`, or cleared). */
export function withDeviceState(
  devices: readonly ResourceDevice[],
  id: string,
  state: DeviceState,
  error?: string,
): ResourceDevice[] {
  return devices.map((d) => {
    if (d.id !== id) return d;
    const { error: _old, ...rest } = d;
    return { ...rest, state, ...(error !== undefined ? { error } : {}) };
  });
}

export const withoutDevice = (devices: readonly ResourceDevice[], id: string): ResourceDevice[] =>
  devices.filter((d) => d.id !== id);
