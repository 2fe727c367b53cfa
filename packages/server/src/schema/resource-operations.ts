/**
 * Resource operations: power (`resourceAction`), resize and its revert, attach and detach,
 * and the Resource fields that show them (`allowedActions`, `operation`, `lastOperation`,
 * `pendingSpec`, `devices`). Each mutation runs as a durable job and answers at once or
 * waits like `createResource`; refusals are typed (NotSupportedError, ConflictError, ...).
 */
import {
  DEVICE_STATES,
  DEVICE_TYPES,
  type OperationOutcome,
  POWER_ACTIONS,
  RESOURCE_ACTIONS,
  type ResourceDevice,
  type ResourceOperation,
} from '@slipway/core';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import {
  CapacityExhaustedError,
  ConflictError,
  InsufficientCreditsError,
  InvalidStateError,
  NotFoundError,
  NotSupportedError,
  ProvisionerError,
  typed,
  ValidationError,
} from '../errors/typed-errors.js';
import { ResourceSpecType, ResourceType } from './resource.js';

const enumOf = <T extends string>(name: string, values: readonly T[], description: string) =>
  builder.enumType(name, {
    description,
    values: Object.fromEntries(values.map((v) => [v, { value: v }])) as Record<T, { value: T }>,
  });

const ResourceActionEnum = enumOf('ResourceAction', POWER_ACTIONS, 'A power action of `resourceAction`.');
const AllowedActionEnum = enumOf('AllowedAction', RESOURCE_ACTIONS, 'An action the resource allows now.');
const DeviceTypeEnum = builder.enumType('DeviceType', {
  values: { DISK: { value: DEVICE_TYPES[0] }, NIC: { value: DEVICE_TYPES[1] } },
});
const DeviceStateEnum = enumOf(
  'DeviceState',
  DEVICE_STATES,
  'DETACHING stays until the guest acknowledges or the machine reboots.',
);
const OperationActionEnum = enumOf(
  'OperationAction',
  RESOURCE_ACTIONS.filter((a) => a !== 'RELEASE'),
  'What an operation does.',
);

const OperationType = builder.objectRef<ResourceOperation>('ResourceOperation').implement({
  description: 'The operation in flight on a resource (at most one).',
  fields: (t) => ({
    id: t.exposeID('id'),
    action: t.field({ type: OperationActionEnum, resolve: (o) => o.action }),
    requestedBy: t.exposeID('requestedBy'),
    startedAt: t.field({ type: 'DateTime', resolve: (o) => o.startedAt }),
  }),
});

const OutcomeType = builder.objectRef<OperationOutcome>('OperationOutcome').implement({
  description: 'How the last operation on a resource ended.',
  fields: (t) => ({
    id: t.exposeID('id'),
    action: t.field({ type: OperationActionEnum, resolve: (o) => o.action }),
    succeeded: t.boolean({ resolve: (o) => o.state === 'SUCCEEDED' }),
    error: t.exposeString('error', { nullable: true }),
    code: t.exposeString('code', { nullable: true, description: 'The error code when it failed.' }),
    finishedAt: t.field({ type: 'DateTime', resolve: (o) => o.finishedAt }),
  }),
});

const DeviceType = builder.objectRef<ResourceDevice>('Device').implement({
  description: 'A hot-plugged disk or NIC.',
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.field({ type: DeviceTypeEnum, resolve: (d) => d.type }),
    state: t.field({ type: DeviceStateEnum, resolve: (d) => d.state }),
    sizeGb: t.int({ nullable: true, resolve: (d) => d.sizeGb ?? null }),
    error: t.string({ nullable: true, description: 'Why the last detach failed.', resolve: (d) => d.error ?? null }),
  }),
});

builder.objectFields(ResourceType, (t) => ({
  allowedActions: t.field({
    type: [AllowedActionEnum],
    description: 'What the resource allows now: its status, its provisioner’s capabilities, an operation in flight.',
    resolve: (r, _args, ctx) => ctx.slipway.resources.allowedActions(r),
  }),
  operation: t.field({ type: OperationType, nullable: true, resolve: (r) => r.operation }),
  lastOperation: t.field({ type: OutcomeType, nullable: true, resolve: (r) => r.lastOperation }),
  pendingSpec: t.field({
    type: ResourceSpecType,
    nullable: true,
    description: 'A resize applied at the next boot (`revertResize` drops it).',
    resolve: (r) => r.pendingSpec,
  }),
  devices: t.field({ type: [DeviceType], resolve: (r) => r.devices }),
}));

const ResizeInput = builder.inputType('ResizeInput', {
  description: 'The new size; what is not given stays as it is.',
  fields: (t) => ({ vcpu: t.float(), memoryMb: t.int() }),
});

const AttachDeviceInput = builder.inputType('AttachDeviceInput', {
  fields: (t) => ({
    type: t.field({ type: DeviceTypeEnum, required: true }),
    id: t.string({ description: 'Generated when absent.' }),
    sizeGb: t.int({ description: 'Disks only, required for them.' }),
  }),
});

const WAIT =
  'Wait for the operation’s job (default true, bounded; a slow one answers with `operation` still set). false: answer at once.';
const REFUSALS = [
  NotFoundError,
  NotSupportedError,
  ConflictError,
  InvalidStateError,
  ValidationError,
  ProvisionerError,
];
const waitOptions = (wait: boolean | null | undefined) => (wait == null ? {} : { wait });
const defined = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

builder.mutationFields((t) => ({
  resourceAction: t.field({
    type: ResourceType,
    description: 'Start, stop, restart or reset the machine.',
    args: {
      id: t.arg.id({ required: true }),
      action: t.arg({ type: ResourceActionEnum, required: true }),
      wait: t.arg.boolean({ description: WAIT }),
    },
    errors: { types: REFUSALS },
    resolve: (_root, args, ctx) =>
      typed(() => ctx.slipway.resources.act(actorOf(ctx), String(args.id), args.action, waitOptions(args.wait))),
  }),
  resizeResource: t.field({
    type: ResourceType,
    description:
      'Change vCPU/memory at the next boot. A bigger size holds the price difference now and charges it when applied; a smaller one refunds it then (never more than was charged).',
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: ResizeInput, required: true }),
      wait: t.arg.boolean({ description: WAIT }),
    },
    // CapacityExhausted: a bigger size with no room on a host-placed resource's host.
    errors: { types: [...REFUSALS, InsufficientCreditsError, CapacityExhaustedError] },
    resolve: (_root, args, ctx) =>
      typed(() =>
        ctx.slipway.resources.resize(actorOf(ctx), String(args.id), defined(args.input), waitOptions(args.wait)),
      ),
  }),
  revertResize: t.field({
    type: ResourceType,
    description: 'Drop the pending resize and release its hold.',
    args: { id: t.arg.id({ required: true }), wait: t.arg.boolean({ description: WAIT }) },
    errors: { types: REFUSALS },
    resolve: (_root, args, ctx) =>
      typed(() => ctx.slipway.resources.revertResize(actorOf(ctx), String(args.id), waitOptions(args.wait))),
  }),
  attachDevice: t.field({
    type: ResourceType,
    description: 'Hot-plug a disk or NIC.',
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: AttachDeviceInput, required: true }),
      wait: t.arg.boolean({ description: WAIT }),
    },
    errors: { types: [...REFUSALS, CapacityExhaustedError] }, // a disk with no room on the host
    resolve: (_root, args, ctx) =>
      typed(() =>
        ctx.slipway.resources.attachDevice(
          actorOf(ctx),
          String(args.id),
          { type: args.input.type, ...defined({ id: args.input.id, sizeGb: args.input.sizeGb }) },
          waitOptions(args.wait),
        ),
      ),
  }),
  detachDevice: t.field({
    type: ResourceType,
    description: 'Unplug a device; one the guest has not acknowledged stays DETACHING until it does.',
    args: {
      id: t.arg.id({ required: true }),
      deviceId: t.arg.id({ required: true }),
      wait: t.arg.boolean({ description: WAIT }),
    },
    errors: { types: REFUSALS },
    resolve: (_root, args, ctx) =>
      typed(() =>
        ctx.slipway.resources.detachDevice(
          actorOf(ctx),
          String(args.id),
          String(args.deviceId),
          waitOptions(args.wait),
        ),
      ),
  }),
}));
