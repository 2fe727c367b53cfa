/** Admin `releaseLag`: expiry and deletion lag samples for the dashboard's charts (see core release-lag.ts). */
import { LAG_PAGE, type LagSample, releaseLagSamples } from '@slipway/core';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { typed } from '../errors/typed-errors.js';

const LagKindEnum = builder.enumType('LagKind', {
  values: {
    EXPIRY: { value: 'expiry' as const, description: 'From `expiresAt` to EXPIRED.' },
    DELETION: {
      value: 'deletion' as const,
      description: 'From the release request (a user’s release or the expiry sweeper’s) to RELEASED/EXPIRED.',
    },
  },
});

const LagSampleType = builder.objectRef<LagSample>('LagSample').implement({
  description: 'How long one machine took to go away.',
  fields: (t) => ({
    resourceId: t.exposeID('resourceId'),
    provisioner: t.exposeString('provisioner'),
    at: t.field({ type: 'DateTime', description: 'When it was gone.', resolve: (s) => s.at }),
    seconds: t.exposeFloat('seconds'),
  }),
});

builder.queryFields((t) => ({
  releaseLag: t.field({
    type: [LagSampleType],
    description: 'Admin: expiry or deletion lag of the newest releases, newest first.',
    authScopes: { admin: true },
    args: {
      kind: t.arg({ type: LagKindEnum, required: true }),
      first: t.arg.int({ description: `1-${LAG_PAGE.maxSize}, default ${LAG_PAGE.defaultSize}.` }),
      since: t.arg({ type: 'DateTime', description: 'Only releases at or after this instant.' }),
    },
    resolve: (_root, args, ctx) =>
      typed(() =>
        releaseLagSamples(ctx.slipway.storage.db, actorOf(ctx), {
          kind: args.kind,
          first: args.first ?? LAG_PAGE.defaultSize,
          ...(args.since ? { since: args.since } : {}),
        }),
      ),
  }),
}));
