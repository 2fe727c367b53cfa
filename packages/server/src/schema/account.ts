/** Accounts and wallets: `me`, admin `account(id)`, admin `grantCredits`. */
import { type AccountWithWallet, LIMITS } from '@slipway/core';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import {
  ForbiddenError,
  InsufficientCreditsError,
  NotFoundError,
  typed,
  ValidationError,
} from '../errors/typed-errors.js';

export const RoleEnum = builder.enumType('Role', {
  values: { USER: { value: 'user' as const }, ADMIN: { value: 'admin' as const } },
});

export const AccountType = builder.objectRef<AccountWithWallet>('Account').implement({
  description: 'An account and its wallet. Created on first sight of its id (first request or first grant).',
  fields: (t) => ({
    id: t.exposeID('id'),
    role: t.field({ type: RoleEnum, resolve: (a) => a.role }),
    forgeId: t.exposeString('forgeId', { nullable: true }),
    balance: t.field({ type: 'Credits', description: 'Sum of all ledger entries.', resolve: (a) => a.wallet.balance }),
    held: t.field({
      type: 'Credits',
      description: 'Credits reserved by creates in flight.',
      resolve: (a) => a.wallet.held,
    }),
    available: t.field({
      type: 'Credits',
      description: 'balance - held: what a new create may spend.',
      resolve: (a) => a.wallet.available,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
  }),
});

const GrantCreditsInput = builder.inputType('GrantCreditsInput', {
  fields: (t) => ({
    accountId: t.id({ required: true }),
    amount: t.field({
      type: 'Credits',
      required: true,
      description: `Credits to add; negative removes (never below what is held). At most ${LIMITS.grant.maxAmount} at once; a balance stays within ${LIMITS.credits.maxBalance}.`,
    }),
    note: t.string(),
  }),
});

builder.queryFields((t) => ({
  me: t.field({
    type: AccountType,
    description: 'The caller’s account and wallet.',
    resolve: (_root, _args, ctx) => typed(() => ctx.slipway.accounts.me(actorOf(ctx))),
  }),
  account: t.field({
    type: AccountType,
    description: 'Admin: any account by id.',
    authScopes: { admin: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => typed(() => ctx.slipway.accounts.get(actorOf(ctx), String(args.id))),
  }),
}));

builder.mutationFields((t) => ({
  grantCredits: t.field({
    type: AccountType,
    description: 'Admin: add (or remove) credits as one ledger entry; creates the account if new.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: GrantCreditsInput, required: true }) },
    errors: { types: [ValidationError, InsufficientCreditsError, NotFoundError, ForbiddenError] },
    resolve: (_root, { input }, ctx) =>
      typed(() =>
        ctx.slipway.accounts.grant(actorOf(ctx), {
          accountId: String(input.accountId),
          amount: input.amount,
          ...(input.note != null ? { note: input.note } : {}),
        }),
      ),
  }),
}));
