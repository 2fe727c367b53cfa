/** The orphan reaper's last sweep of each provisioner with `inventory` (admin). */
import type { OrphanSweep } from '@slipway/core';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { typed } from '../errors/typed-errors.js';

const OrphanSweepType = builder.objectRef<OrphanSweep>('OrphanSweep').implement({
  description:
    'One sweep of a provisioner’s inventory by the orphan reaper: machines of ours no live resource stands behind are released after a grace period; resources whose machine is gone are marked GONE (see docs/reliability.md).',
  fields: (t) => ({
    provisioner: t.exposeString('provisioner'),
    host: t.exposeString('host', {
      nullable: true,
      description: 'The host swept (host-placed provisioners), else null.',
    }),
    startedAt: t.field({ type: 'DateTime', resolve: (s) => s.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.finishedAt }),
    listed: t.exposeInt('listed', { description: 'Machines the provider listed.' }),
    orphansSeen: t.exposeInt('orphansSeen', {
      description: 'Listed machines with no live resource behind them (in their grace period, or released now).',
    }),
    released: t.exposeInt('released', { description: 'Orphans released at the provider by this sweep.' }),
    markedGone: t.exposeInt('markedGone', { description: 'Resources marked GONE: their machine no longer exists.' }),
    error: t.exposeString('error', {
      nullable: true,
      description: 'Why the sweep failed (the inventory could not be listed), or which releases failed.',
    }),
  }),
});

builder.queryFields((t) => ({
  orphanSweeps: t.field({
    type: [OrphanSweepType],
    description: 'Admin: the last orphan sweep of every provisioner with inventory (and host), by provisioner.',
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => typed(() => ctx.slipway.reaper.lastSweeps(actorOf(ctx))),
  }),
}));
