/** The registered provisioners, so clients can pick a `provisioner` name for create. */
import type { RuntimeProvisioner } from '@slipway/core';
import { builder } from '../builder.js';
import { typed } from '../errors/typed-errors.js';
import { CatalogType } from './catalog.js';

const ProvisionerType = builder.objectRef<RuntimeProvisioner>('Provisioner').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    isDemo: t.exposeBoolean('isDemo', { description: 'True when it allocates nothing real.' }),
    capabilities: t.stringList({
      description:
        'The optional capability members it implements (optionsSchema, quote, start, stop, restart, reset, reconfigure, attach, detach, refresh, inventory, catalog, host, watch, jobHandlers); an operation whose member is missing answers NOT_SUPPORTED.',
      resolve: (p) => [...p.capabilities],
    }),
    catalog: t.field({
      type: CatalogType,
      nullable: true,
      description:
        'The images and sizes a create request may name; null when it has no catalog (give vcpu/memoryMb/diskGb).',
      resolve: (p, _args, ctx) =>
        p.has('catalog') ? typed(() => p.catalog({ signal: ctx.signal, events: { emit: () => {} } })) : null,
    }),
    pricing: t.string({
      description: 'The pricing policy ("standard", "compute", "custom"), or "provisioner" when it quotes itself.',
      // Core's Pricer prefers a provisioner's own quote when no policy is configured for it;
      // the server configures none, so a priceQuote capability means the provisioner prices.
      resolve: (p, _args, ctx) => ctx.slipway.pricer.policyName(p),
    }),
  }),
});

builder.queryFields((t) => ({
  provisioners: t.field({
    type: [ProvisionerType],
    resolve: (_root, _args, ctx) => ctx.slipway.registry.list(),
  }),
}));
