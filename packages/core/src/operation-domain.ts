/**
 * Resource operations as users see them: the actions, the one operation in flight on a
 * resource, its outcome, devices, and the zod schemas of the operations' inputs.
 */
import { z } from 'zod';
import { LIMITS } from './limits/limits.js';

/** Power actions of `resources.act` (`resourceAction` in GraphQL). */
export const POWER_ACTIONS = ['START', 'STOP', 'RESTART', 'RESET_HARD', 'RESET_SOFT'] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];

/** Everything `allowedActions` may list. */
export const RESOURCE_ACTIONS = [
  ...POWER_ACTIONS,
  'RESIZE',
  'REVERT_RESIZE',
  'ATTACH_DEVICE',
  'DETACH_DEVICE',
  'RELEASE',
] as const;
export type ResourceAction = (typeof RESOURCE_ACTIONS)[number];

/** The actions that run as an operation (a durable job holding the resource's one slot). */
export type OperationAction = Exclude<ResourceAction, 'RELEASE'>;

/** The operation in flight on a resource (at most one). */
export interface ResourceOperation {
  readonly id: string;
  readonly action: OperationAction;
  readonly requestedBy: string;
  readonly startedAt: Date;
}

/** How the last operation on a resource ended. */
export interface OperationOutcome {
  readonly id: string;
  readonly action: OperationAction;
  readonly state: 'SUCCEEDED' | 'FAILED';
  /** Why it failed (null when it succeeded). */
  readonly error: string | null;
  readonly code: string | null;
  readonly finishedAt: Date;
}

export const DEVICE_TYPES = ['disk', 'nic'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];
export const DEVICE_STATES = ['ATTACHING', 'ATTACHED', 'DETACHING'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

/** A hot-plugged device. A detach the guest has not acknowledged stays DETACHING until it does. */
export interface ResourceDevice {
  readonly id: string;
  readonly type: DeviceType;
  readonly state: DeviceState;
  readonly sizeGb?: number;
  /** The last failure of an operation on the device (a detach that did not go through). */
  readonly error?: string;
}

/** `resize`: the new vCPU count and/or memory; what is not given stays as it is. */
export const ResizeInputSchema = z
  .object({
    vcpu: z.number().min(LIMITS.spec.vcpuMin).max(LIMITS.spec.vcpuMax).optional(),
    memoryMb: z.number().int().min(LIMITS.spec.memoryMbMin).max(LIMITS.spec.memoryMbMax).optional(),
  })
  .strict();
export type ResizeInput = z.input<typeof ResizeInputSchema>;

/** `attachDevice`: a disk needs its size; the id is generated when absent. */
export const AttachDeviceInputSchema = z
  .object({
    type: z.enum(DEVICE_TYPES),
    id: z
      .string()
      .regex(LIMITS.devices.idPattern, 'lowercase letters, digits and -, starting with a letter')
      .optional(),
    sizeGb: z.number().int().min(1).max(LIMITS.devices.diskGbMax).optional(),
  })
  .strict();
export type AttachDeviceInput = z.input<typeof AttachDeviceInputSchema>;
