/** Pool administration: admin `poolAllocations` (who holds which machine) and `refreshPool`. */
import type { PoolRefreshResult } from '@slipway/core';
import type { PoolSize } from '@slipway/provisioner-pool';
import { DEFAULT_POOL_PROVISIONER, type PoolAllocation, poolAllocations, refreshPool } from '../admin/pool-admin.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { NotFoundError, ProvisionerError, typed, ValidationError } from '../errors/typed-errors.js';
import { ResourceStatusEnum } from './resource.js';

const PoolMachineStatusEnum = builder.enumType('PoolMachineStatus', {
  values: {
    AVAILABLE: { value: 'available' as const, description: 'Free and handed out on request.' },
    MAINTENANCE: { value: 'maintenance' as const, description: 'Marked maintenance in the pool; never handed out.' },
    ALLOCATED: { value: 'allocated' as const, description: 'Held by a resource.' },
    CLEANING: { value: 'cleaning' as const, description: 'Released; waiting for the release hook to succeed.' },
  },
});

const PoolMachineSizeType = builder.objectRef<PoolSize>('PoolMachineSize').implement({
  fields: (t) => ({
    vcpu: t.exposeFloat('vcpu'),
    memoryMb: t.exposeInt('memoryMb'),
    diskGb: t.exposeInt('diskGb'),
  }),
});

const PoolAllocationType = builder.objectRef<PoolAllocation>('PoolAllocation').implement({
  description: 'A machine of a pool provisioner and who holds it.',
  fields: (t) => ({
    machineId: t.exposeID('machineId', { description: 'The machine id from the pool (the resource’s externalId).' }),
    machineName: t.string({ resolve: (m) => m.name }),
    host: t.exposeString('host'),
    sshPort: t.exposeInt('sshPort'),
    cockpitUrl: t.exposeString('cockpitUrl', { nullable: true }),
    size: t.field({ type: PoolMachineSizeType, resolve: (m) => m.size }),
    labels: t.field({ type: 'JSON', resolve: (m) => m.labels }),
    status: t.field({ type: PoolMachineStatusEnum, resolve: (m) => m.status }),
    maintenance: t.exposeBoolean('maintenance', {
      description: 'The pool marks the machine for maintenance (also while it is still held).',
    }),
    removed: t.exposeBoolean('removed', { description: 'Gone from the pool while held; dropped once released.' }),
    resourceId: t.exposeID('resourceId', {
      nullable: true,
      description: 'The holder (while ALLOCATED) or the last holder (while CLEANING); null when free.',
    }),
    ownerId: t.exposeID('ownerId', { nullable: true, description: 'The account that holds the machine.' }),
    requestId: t.exposeString('requestId', { nullable: true, description: 'The requestId of the holder’s create.' }),
    since: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Last state change (allocated, released, …).',
      resolve: (m) => (m.since === null ? null : new Date(m.since)),
    }),
    cost: t.field({
      type: 'Credits',
      nullable: true,
      description: 'Credits of the holder’s resource: held while provisioning, charged once allocated.',
      resolve: (m) => m.cost,
    }),
    resourceStatus: t.field({
      type: ResourceStatusEnum,
      nullable: true,
      description: 'Status of the holder’s resource.',
      resolve: (m) => m.resourceStatus,
    }),
  }),
});

const PoolRefreshResultType = builder.objectRef<PoolRefreshResult>('PoolRefreshResult').implement({
  fields: (t) => ({
    prevPoolSize: t.exposeInt('prevPoolSize', { description: 'Machines in the pool before the refresh.' }),
    poolSize: t.exposeInt('poolSize', { description: 'Machines in the new pool.' }),
    added: t.stringList({ description: 'Ids new in the pool.', resolve: (r) => [...r.added] }),
    removed: t.stringList({
      description: 'Ids gone from the pool; those still held stay with their user, flagged `removed`.',
      resolve: (r) => [...r.removed],
    }),
    stillAllocated: t.stringList({
      description: 'Ids held by a resource right now (including removed ones).',
      resolve: (r) => [...r.stillAllocated],
    }),
  }),
});

const PROVISIONER_ARG_DESCRIPTION = 'The pool provisioner’s registry name.';

builder.queryFields((t) => ({
  poolAllocations: t.field({
    type: [PoolAllocationType],
    description:
      'Admin: every machine of a pool provisioner with who holds it, ordered by machine id. NOT_FOUND when there is no such pool.',
    authScopes: { admin: true },
    args: {
      provisioner: t.arg.string({ defaultValue: DEFAULT_POOL_PROVISIONER, description: PROVISIONER_ARG_DESCRIPTION }),
    },
    resolve: (_root, args, ctx) =>
      typed(() =>
        poolAllocations(ctx, args.provisioner ?? DEFAULT_POOL_PROVISIONER, {
          actorId: actorOf(ctx).id,
          via: 'graphql',
        }),
      ),
  }),
}));

builder.mutationFields((t) => ({
  refreshPool: t.field({
    type: PoolRefreshResultType,
    description:
      'Admin: re-read the pool source and swap it in, keeping every held machine with its user. A bad source is a ValidationError listing every problem, and the pool stays as it was.',
    authScopes: { admin: true },
    args: {
      provisioner: t.arg.string({ defaultValue: DEFAULT_POOL_PROVISIONER, description: PROVISIONER_ARG_DESCRIPTION }),
    },
    errors: { types: [ValidationError, NotFoundError, ProvisionerError] },
    resolve: (_root, args, ctx) =>
      typed(() =>
        refreshPool(ctx, args.provisioner ?? DEFAULT_POOL_PROVISIONER, { actorId: actorOf(ctx).id, via: 'graphql' }),
      ),
  }),
}));
