import type { Kysely } from 'kysely';
import { z } from 'zod';
import { type Account, type Actor, isAdmin, type Wallet } from '../domain.js';
import { notFound, SlipwayError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import type { CreditLedger } from '../ledger/ledger.js';
import { LIMITS } from '../limits/limits.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { parseOrThrow } from '../util/parse.js';

export const AccountIdSchema = z
  .string()
  .min(1)
  .max(LIMITS.accountId.maxLength)
  .regex(LIMITS.accountId.pattern, 'letters, digits and . _ @ : -');

const GrantSchema = z.object({
  accountId: AccountIdSchema,
  amount: z
    .number()
    .int()
    .refine((n) => n !== 0, 'must not be zero')
    .refine(
      (n) => Math.abs(n) <= LIMITS.grant.maxAmount,
      `at most ${LIMITS.grant.maxAmount.toLocaleString('en-US')} at once`,
    ),
  note: z.string().max(LIMITS.grant.noteMaxLength).optional(),
});

export type AccountWithWallet = Account & { wallet: Wallet };

/** Accounts and their wallets: who the caller is, what they can spend, admin grants. */
export class AccountService {
  readonly #db: Kysely<SlipwayDatabase>;
  readonly #ledger: CreditLedger;
  readonly #events: EventLog;

  constructor(deps: { db: Kysely<SlipwayDatabase>; ledger: CreditLedger; events: EventLog }) {
    this.#db = deps.db;
    this.#ledger = deps.ledger;
    this.#events = deps.events;
  }

  /** The caller's account (created on first sight) with its wallet. */
  async me(actor: Actor): Promise<AccountWithWallet> {
    await this.#ledger.ensureAccount(this.#db, actor.id, actor.role);
    return this.get(actor, actor.id);
  }

  async get(actor: Actor, accountId: string): Promise<AccountWithWallet> {
    if (!isAdmin(actor) && actor.id !== accountId) throw notFound('account', accountId);
    const row = await this.#db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
    if (!row) throw notFound('account', accountId);
    const wallet = await this.#ledger.wallet(this.#db, accountId);
    return { id: row.id, role: row.role, forgeId: row.forge_id, createdAt: row.created_at, wallet };
  }

  /** Admin: add credits (or remove them with a negative amount) as one ledger entry. */
  async grant(actor: Actor, input: { accountId: string; amount: number; note?: string }): Promise<AccountWithWallet> {
    if (!isAdmin(actor)) throw new SlipwayError('FORBIDDEN', 'only admins grant credits');
    const parsed = parseOrThrow(GrantSchema, input);
    await this.#db.transaction().execute(async (trx) => {
      await trx
        .insertInto('accounts')
        .values({ id: parsed.accountId, role: 'user', forge_id: null })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      await this.#ledger.ensureAccount(
        trx,
        parsed.accountId,
        (await trx.selectFrom('accounts').select('role').where('id', '=', parsed.accountId).executeTakeFirstOrThrow())
          .role,
      );
      const entryId = await this.#ledger.grant(trx, {
        accountId: parsed.accountId,
        amount: parsed.amount,
        actorId: actor.id,
        note: parsed.note ?? null,
      });
      await this.#events.append(trx, {
        type: 'admin',
        action: 'credits.granted',
        actorId: actor.id,
        ownerId: parsed.accountId,
        data: { amount: parsed.amount, note: parsed.note ?? null, entryId },
      });
    });
    return this.get(actor, parsed.accountId);
  }

  /** Link an external (Forge) identity to an account. */
  async setForgeId(actor: Actor, accountId: string, forgeId: string | null): Promise<AccountWithWallet> {
    if (!isAdmin(actor)) throw new SlipwayError('FORBIDDEN', 'only admins link identities');
    const res = await this.#db
      .updateTable('accounts')
      .set({ forge_id: forgeId })
      .where('id', '=', accountId)
      .executeTakeFirst();
    if (res.numUpdatedRows === 0n) throw notFound('account', accountId);
    return this.get(actor, accountId);
  }
}
