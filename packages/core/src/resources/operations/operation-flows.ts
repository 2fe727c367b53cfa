/**
 * The operations a user asks for, each an `OperationClaim` run by `requestOperation`:
 * power actions, resize and its revert (with credit admission), attach and detach.
 */
import { type Actor, type Resource, type ResourceSpec, ResourceSpecSchema } from '../../domain.js';
import { SlipwayError, validationError } from '../../errors.js';
import { NO_GROWTH } from '../../hosts/host-room.js';
import {
  type AttachDeviceInput,
  AttachDeviceInputSchema,
  POWER_ACTIONS,
  type PowerAction,
  type ResizeInput,
  ResizeInputSchema,
} from '../../operation-domain.js';
import { jsonb } from '../../storage/executor.js';
import { parseOrThrow } from '../../util/parse.js';
import type { WaitOptions } from '../await-settled.js';
import { canonicalJson, type ResourceRow } from '../resource-mapper.js';
import { newDevice, withDeviceState } from './devices.js';
import { type OperationClaim, type OperationDeps, requestOperation } from './operation-request.js';
import { holdResize, resizeDelta, sizeOf } from './resize-credits.js';

const nothingBefore = async () => undefined;

export async function actOn(d: OperationDeps, actor: Actor, id: string, action: PowerAction, opts: WaitOptions) {
  if (!(POWER_ACTIONS as readonly unknown[]).includes(action)) {
    throw validationError('action', `must be one of ${POWER_ACTIONS.join(', ')}`);
  }
  const claim: OperationClaim<undefined> = {
    action,
    before: nothingBefore,
    claim: async () => ({ record: { action } }),
  };
  return requestOperation(d, actor, id, claim, opts);
}

/** The current spec with vcpu/memoryMb changed; VALIDATION_FAILED names the field. */
function resizedSpec(spec: ResourceSpec, input: { vcpu?: number | undefined; memoryMb?: number | undefined }) {
  const next = parseOrThrow(ResourceSpecSchema, {
    ...spec,
    ...(input.vcpu !== undefined ? { vcpu: input.vcpu } : {}),
    ...(input.memoryMb !== undefined ? { memoryMb: input.memoryMb } : {}),
  });
  if (next.vcpu === spec.vcpu && next.memoryMb === spec.memoryMb) {
    throw validationError(input.vcpu !== undefined ? 'vcpu' : 'memoryMb', 'the resource already has this size');
  }
  return next;
}

/** What a resize's price depends on in the row (its spec; its cost caps a refund). */
const priced = (row: Pick<ResourceRow, 'spec' | 'cost'>) => `${canonicalJson(row.spec)} ${row.cost}`;

export async function resize(d: OperationDeps, actor: Actor, id: string, raw: ResizeInput, opts: WaitOptions) {
  const input = parseOrThrow(ResizeInputSchema, raw);
  if (input.vcpu === undefined && input.memoryMb === undefined) throw validationError('vcpu', 'give vcpu or memoryMb');
  const claim: OperationClaim<{ spec: ResourceSpec; from: string; delta: number }> = {
    action: 'RESIZE',
    async before(row) {
      const spec = resizedSpec(row.spec, input);
      return { spec, from: priced(row), delta: await resizeDelta(d, row, spec, d.clock.now()) };
    },
    room: (row, pre) => ({
      vcpu: Math.max(0, pre.spec.vcpu - row.spec.vcpu),
      memoryMb: Math.max(0, pre.spec.memoryMb - row.spec.memoryMb),
      diskGb: 0,
    }),
    async claim(trx, row, pre, operationId) {
      // Priced against the spec and cost read before the transaction: a resize applied meanwhile changes both.
      if (priced(row) !== pre.from) {
        throw new SlipwayError('CONFLICT', 'the resource was resized meanwhile; ask again', {
          details: { operation: 'RESIZE', resourceId: row.id },
        });
      }
      const reservationId = await holdResize(trx, d, row, operationId, pre.delta);
      return {
        record: { action: 'RESIZE', spec: pre.spec, delta: pre.delta, reservationId },
        set: { resize_reservation_id: reservationId },
        data: { from: sizeOf(row.spec), to: sizeOf(pre.spec), delta: pre.delta, held: reservationId ? pre.delta : 0 },
      };
    },
  };
  return requestOperation(d, actor, id, claim, opts);
}

export async function revertResize(d: OperationDeps, actor: Actor, id: string, opts: WaitOptions) {
  const claim: OperationClaim<undefined> = {
    action: 'REVERT_RESIZE',
    before: nothingBefore,
    claim: async () => ({ record: { action: 'REVERT_RESIZE' } }),
  };
  return requestOperation(d, actor, id, claim, opts);
}

export async function attachDevice(
  d: OperationDeps,
  actor: Actor,
  id: string,
  raw: AttachDeviceInput,
  opts: WaitOptions,
): Promise<Resource> {
  const input = parseOrThrow(AttachDeviceInputSchema, raw);
  const claim: OperationClaim<undefined> = {
    action: 'ATTACH_DEVICE',
    check: (row) => void newDevice(input, row.devices),
    before: nothingBefore,
    room: () => ({ ...NO_GROWTH, diskGb: input.sizeGb ?? 0 }),
    async claim(_trx, row) {
      const device = newDevice(input, row.devices);
      return {
        record: { action: 'ATTACH_DEVICE', device },
        set: { devices: jsonb([...row.devices, device]) },
        data: { device },
      };
    },
  };
  return requestOperation(d, actor, id, claim, opts);
}

export async function detachDevice(d: OperationDeps, actor: Actor, id: string, deviceId: unknown, opts: WaitOptions) {
  if (typeof deviceId !== 'string' || deviceId.length === 0) throw validationError('deviceId', 'must be a device id');
  const claim: OperationClaim<undefined> = {
    action: 'DETACH_DEVICE',
    check(row) {
      const device = row.devices.find((x) => x.id === deviceId);
      if (!device) throw validationError('deviceId', `no device ${deviceId} on the resource`);
      if (device.state !== 'ATTACHED') {
        throw new SlipwayError('INVALID_STATE', `device ${deviceId} is ${device.state}`, {
          details: { deviceId, state: device.state },
        });
      }
    },
    before: nothingBefore,
    claim: async (_trx, row) => ({
      record: { action: 'DETACH_DEVICE', deviceId },
      set: { devices: jsonb(withDeviceState(row.devices, deviceId, 'DETACHING')) },
      data: { deviceId },
    }),
  };
  return requestOperation(d, actor, id, claim, opts);
}
