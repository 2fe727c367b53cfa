/** Resources: the type, `resources` (Relay connection), `resource(id)` and the lifecycle mutations. */
import {
  LIMITS,
  type MetadataPatch,
  RESOURCE_STATUSES,
  type Resource,
  type ResourceSpec,
  SlipwayError,
} from '@slipway/core';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import {
  CapacityExhaustedError,
  IdempotencyMismatchError,
  InsufficientCreditsError,
  InvalidStateError,
  NotFoundError,
  ProvisionerError,
  RateLimitedError,
  RequestInProgressError,
  typed,
  ValidationError,
} from '../errors/typed-errors.js';
import { CreateResourceInput, ResourceKindEnum, toCoreInput } from './resource-input.js';

export const ResourceStatusEnum = builder.enumType('ResourceStatus', { values: RESOURCE_STATUSES });

export const ResourceSpecType = builder.objectRef<ResourceSpec>('ResourceSpec').implement({
  fields: (t) => ({
    vcpu: t.exposeFloat('vcpu'),
    memoryMb: t.exposeInt('memoryMb'),
    diskGb: t.exposeInt('diskGb'),
    osType: t.exposeString('osType', { nullable: true }),
    image: t.exposeString('image', { nullable: true }),
  }),
});

export const ResourceType = builder.objectRef<Resource>('Resource').implement({
  description: 'A VM or pod handed out by a provisioner.',
  fields: (t) => ({
    id: t.exposeID('id'),
    ownerId: t.exposeID('ownerId'),
    name: t.exposeString('name'),
    kind: t.field({ type: ResourceKindEnum, resolve: (r) => r.kind }),
    provisioner: t.exposeString('provisioner'),
    host: t.exposeString('host', {
      nullable: true,
      description: 'The host it was placed on (host-placed provisioners such as qemu); null otherwise.',
    }),
    spec: t.field({ type: ResourceSpecType, resolve: (r) => r.spec }),
    status: t.field({ type: ResourceStatusEnum, resolve: (r) => r.status }),
    externalId: t.exposeString('externalId', { nullable: true }),
    ip: t.exposeString('ip', { nullable: true }),
    sshPort: t.exposeInt('sshPort', { nullable: true }),
    cockpitUrl: t.exposeString('cockpitUrl', { nullable: true }),
    metadata: t.field({ type: 'JSON', resolve: (r) => r.metadata }),
    labels: t.field({ type: 'JSON', resolve: (r) => r.labels }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.expiresAt }),
    cost: t.field({
      type: 'Credits',
      description: 'Credits held while provisioning, charged once allocated.',
      resolve: (r) => r.cost,
    }),
    requestId: t.exposeString('requestId'),
    error: t.exposeString('error', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (r) => r.updatedAt }),
    releasedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.releasedAt }),
  }),
});

const ResourceConnection = builder.connectionObject(
  { type: ResourceType, name: 'ResourceConnection' },
  { name: 'ResourceEdge' },
);

const WAIT_DESCRIPTION =
  'Wait for the job to settle (default true, bounded; a slow one answers as it is then). false: answer at once with the resource PROVISIONING/RELEASING and follow it with `resource` or `events`.';

const waitOptions = (wait: boolean | null | undefined) => (wait == null ? {} : { wait });

builder.queryFields((t) => ({
  resources: t.field({
    type: ResourceConnection,
    description: 'Newest first. Users see their own resources; admins see all, or one owner’s with `ownerId`.',
    args: {
      first: t.arg.int({
        description: `1-${LIMITS.resourcePage.maxSize}, default ${LIMITS.resourcePage.defaultSize}.`,
      }),
      after: t.arg.string(),
      status: t.arg({ type: [ResourceStatusEnum] }),
      provisioner: t.arg.string(),
      ownerId: t.arg.id({ description: 'Admin only.' }),
    },
    resolve: (_root, args, ctx) =>
      typed(async () => {
        const actor = actorOf(ctx);
        if (args.ownerId != null && actor.role !== 'admin' && String(args.ownerId) !== actor.id) {
          throw new SlipwayError('FORBIDDEN', 'ownerId: only admins list other owners’ resources', {
            details: { field: 'ownerId' },
          });
        }
        const page = await ctx.slipway.resources.list(actor, {
          ...(args.first != null ? { first: args.first } : {}),
          ...(args.after != null ? { after: args.after } : {}),
          ...(args.status != null ? { status: args.status } : {}),
          ...(args.provisioner != null ? { provisioner: args.provisioner } : {}),
          ...(args.ownerId != null ? { ownerId: String(args.ownerId) } : {}),
        });
        const edges = page.items.map((node, i) => ({ cursor: page.cursors[i] as string, node }));
        return {
          edges,
          pageInfo: {
            hasNextPage: page.hasNextPage,
            hasPreviousPage: args.after != null,
            startCursor: edges[0]?.cursor ?? null,
            endCursor: page.endCursor,
          },
        };
      }),
  }),
  resource: t.field({
    type: ResourceType,
    description: 'One resource; NOT_FOUND when it does not exist or belongs to someone else.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => typed(() => ctx.slipway.resources.get(actorOf(ctx), String(args.id))),
  }),
}));

builder.mutationFields((t) => ({
  createResource: t.field({
    type: ResourceType,
    description: 'Price, reserve credits, allocate. Charged only when the allocation succeeds.',
    args: {
      input: t.arg({ type: CreateResourceInput, required: true }),
      wait: t.arg.boolean({ description: WAIT_DESCRIPTION }),
    },
    errors: {
      types: [
        ValidationError,
        InsufficientCreditsError,
        NotFoundError,
        ProvisionerError,
        IdempotencyMismatchError,
        RequestInProgressError,
        CapacityExhaustedError,
        RateLimitedError,
      ],
    },
    resolve: (_root, { input, wait }, ctx) =>
      typed(() => ctx.slipway.resources.create(actorOf(ctx), toCoreInput(input), waitOptions(wait))),
  }),
  releaseResource: t.field({
    type: ResourceType,
    description: 'Release the machine and stop charging. Releasing twice answers the released resource.',
    args: { id: t.arg.id({ required: true }), wait: t.arg.boolean({ description: WAIT_DESCRIPTION }) },
    errors: { types: [NotFoundError, InvalidStateError, ProvisionerError, ValidationError] },
    resolve: (_root, args, ctx) =>
      typed(() => ctx.slipway.resources.release(actorOf(ctx), String(args.id), waitOptions(args.wait))),
  }),
  updateResourceMetadata: t.field({
    type: ResourceType,
    description: 'JSON merge patch (RFC 7386) of `metadata`: objects merge, `null` deletes a key.',
    args: { id: t.arg.id({ required: true }), patch: t.arg({ type: 'JSON', required: true }) },
    errors: { types: [NotFoundError, ValidationError] },
    resolve: (_root, args, ctx) =>
      typed(() => ctx.slipway.resources.updateMetadata(actorOf(ctx), String(args.id), args.patch as MetadataPatch)),
  }),
  refreshResource: t.field({
    type: ResourceType,
    description: 'Ask the provisioner for the machine’s current state and store it.',
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError, ProvisionerError, ValidationError] },
    resolve: (_root, args, ctx) => typed(() => ctx.slipway.resources.refresh(actorOf(ctx), String(args.id))),
  }),
}));
