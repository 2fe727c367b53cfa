/** The event log: users see events of their own resources and account; admins see all. */
import { LIMITS, SlipwayError, type SlipwayEvent } from '@slipway/core';
import { unauthenticatedError } from '../auth.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { typed } from '../errors/typed-errors.js';

const EventTypeEnum = builder.enumType('EventType', {
  values: { VM: { value: 'vm' as const }, SYSTEM: { value: 'system' as const }, ADMIN: { value: 'admin' as const } },
});

const SeverityEnum = builder.enumType('Severity', {
  values: {
    INFO: { value: 'info' as const },
    WARNING: { value: 'warning' as const },
    CRITICAL: { value: 'critical' as const },
  },
});

const EventObject = builder.objectRef<SlipwayEvent>('Event').implement({
  fields: (t) => ({
    seq: t.field({
      type: 'BigInt',
      description: 'Monotonic (64-bit, a decimal string); pass the last one seen as `after` to resume.',
      resolve: (e) => e.seq,
    }),
    type: t.field({ type: EventTypeEnum, resolve: (e) => e.type }),
    action: t.exposeString('action', { description: 'e.g. resource.created, credits.granted.' }),
    severity: t.field({ type: SeverityEnum, resolve: (e) => e.severity }),
    actorId: t.exposeID('actorId', { nullable: true }),
    ownerId: t.exposeID('ownerId', { nullable: true }),
    resourceId: t.exposeID('resourceId', { nullable: true }),
    data: t.field({ type: 'JSON', resolve: (e) => e.data }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
  }),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function resourceIdArg(value: string | number | null | undefined): string | undefined {
  const resourceId = value == null ? undefined : String(value);
  // events.resource_id is a uuid column: anything else would be a database error.
  if (resourceId !== undefined && !UUID.test(resourceId)) {
    throw new SlipwayError('VALIDATION_FAILED', 'resourceId: not a resource id', { details: { field: 'resourceId' } });
  }
  return resourceId;
}

builder.subscriptionFields((t) => ({
  events: t.field({
    type: EventObject,
    description:
      "Your events as they happen (admins: everyone's), over SSE. Give `after` (the last seq you saw) to resume " +
      'after a disconnect with no gap and no duplicate; without it the stream starts at the newest event. ' +
      'Replicas on one PostgreSQL all see every change (LISTEN/NOTIFY).',
    args: {
      after: t.arg({ type: 'BigInt', description: 'Replay events with a greater seq first, then follow live.' }),
      resourceId: t.arg.id({ description: 'Only this resource.' }),
    },
    subscribe: (_root, args, ctx) => {
      // Scope-auth guards `resolve`, which runs per event; the stream itself must be guarded here.
      if (!ctx.actor) throw unauthenticatedError(ctx.tokenProblem);
      const resourceId = resourceIdArg(args.resourceId);
      const actor = actorOf(ctx);
      return ctx.streams.open(actor.id, ctx.tokenExpiresAt, ctx.signal, (signal) =>
        ctx.slipway.watch(actor, {
          signal,
          ...(args.after != null ? { after: args.after } : {}),
          ...(resourceId !== undefined ? { resourceId } : {}),
        }),
      );
    },
    resolve: (event) => event,
  }),
}));

builder.queryFields((t) => ({
  events: t.field({
    type: [EventObject],
    description:
      'Oldest first: `first` events after `after`. Or newest first: `last` events before `before` (the smallest seq ' +
      'of the page you have), to page back from what just happened. The two directions do not mix.',
    args: {
      after: t.arg({ type: 'BigInt', description: 'Only events with a greater seq (oldest first).' }),
      first: t.arg.int({ description: `1-${LIMITS.eventPage.maxSize}, default ${LIMITS.eventPage.defaultSize}.` }),
      before: t.arg({ type: 'BigInt', description: 'Only events with a smaller seq (newest first).' }),
      last: t.arg.int({
        description: `Newest first, this many: 1-${LIMITS.eventPage.maxSize}, default ${LIMITS.eventPage.defaultSize} with \`before\`.`,
      }),
      resourceId: t.arg.id(),
    },
    resolve: (_root, args, ctx) =>
      typed(async () => {
        const resourceId = resourceIdArg(args.resourceId);
        const scope = resourceId !== undefined ? { resourceId } : {};
        const newestFirst = args.before != null || args.last != null;
        if (newestFirst && (args.after != null || args.first != null)) {
          const field = args.after != null ? 'after' : 'first';
          throw new SlipwayError('VALIDATION_FAILED', `${field}: not with before/last (newest first)`, {
            details: { field },
          });
        }
        if (newestFirst) {
          return ctx.slipway.eventService.history(actorOf(ctx), {
            ...(args.before != null ? { before: args.before } : {}),
            ...(args.last != null ? { last: args.last } : {}),
            ...scope,
          });
        }
        return ctx.slipway.eventService.list(actorOf(ctx), {
          ...(args.after != null ? { after: args.after } : {}),
          ...(args.first != null ? { first: args.first } : {}),
          ...scope,
        });
      }),
  }),
}));
