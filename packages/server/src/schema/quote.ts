/** `quote`: what a create would cost and whether it would be admitted now. Writes nothing. */
import type { Quote } from '@slipway/core';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { ProvisionerError, typed, ValidationError } from '../errors/typed-errors.js';
import { ErrorCodeEnum } from './errors.js';
import { CreateResourceInput, toCoreInput } from './resource-input.js';

const QuoteType = builder.objectRef<Quote>('Quote').implement({
  fields: (t) => ({
    provisioner: t.exposeString('provisioner'),
    price: t.field({
      type: 'Credits',
      description: 'Credits a create with this input would be charged.',
      resolve: (q) => q.price,
    }),
    available: t.field({
      type: 'Credits',
      description: 'The caller’s available credits now.',
      resolve: (q) => q.available,
    }),
    admitted: t.exposeBoolean('admitted', { description: 'Whether a create would be admitted now.' }),
    reason: t.field({
      type: ErrorCodeEnum,
      nullable: true,
      description: 'Why not: INSUFFICIENT_CREDITS, or CAPACITY_EXHAUSTED when no host has room; null when admitted.',
      resolve: (q) => q.reason,
    }),
    host: t.exposeString('host', {
      nullable: true,
      description: 'The host a create would be placed on now (host-placed provisioners); null otherwise.',
    }),
  }),
});

builder.queryFields((t) => ({
  quote: t.field({
    type: QuoteType,
    args: { input: t.arg({ type: CreateResourceInput, required: true }) },
    errors: { types: [ValidationError, ProvisionerError] },
    resolve: (_root, { input }, ctx) => typed(() => ctx.slipway.resources.quote(actorOf(ctx), toCoreInput(input))),
  }),
}));
