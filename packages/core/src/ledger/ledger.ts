/**
 * The credit ledger. Invariants, each kept inside one transaction:
 *   wallets.balance = Σ ledger_entries.amount            (every balance change is an entry)
 *   wallets.held    = Σ reservations.amount where pending (every hold is a reservation)
 *   available       = balance − held ≥ 0 for every successful reserve
 * A reserve is one conditional statement, so concurrent reserves can never overspend.
 */
import { sql } from 'kysely';
import type { Role, Wallet } from '../domain.js';
import { InsufficientCreditsError, SlipwayError, validationError } from '../errors.js';
import { LIMITS } from '../limits/limits.js';
import type { Executor } from '../storage/executor.js';
import { runStatement } from '../storage/prepared.js';
import type { ReservationPurpose, ReservationState } from '../storage/schema.js';
import { COMMIT, ENSURE_ACCOUNT, RELEASE, RESERVE } from './ledger-statements.js';

export interface ReserveInput {
  reservationId: string;
  accountId: string;
  amount: number;
  expiresAt: Date;
  resourceId?: string | null;
  /** Default `allocation` (swept when its lease runs out); a `resize` hold is settled by its resize only. */
  purpose?: ReservationPurpose;
}

export interface LedgerAudit {
  balance: number;
  ledgerSum: number;
  held: number;
  pendingSum: number;
}

const MAX_GRANT = LIMITS.grant.maxAmount;
const MAX_BALANCE = LIMITS.credits.maxBalance;

export class CreditLedger {
  /** Create the account and its empty wallet if missing (one statement). Role changes are recorded. */
  async ensureAccount(db: Executor, id: string, role: Role = 'user'): Promise<void> {
    await runStatement(db, ENSURE_ACCOUNT, [id, role]);
  }

  async wallet(db: Executor, accountId: string): Promise<Wallet> {
    const row = await db
      .selectFrom('wallets')
      .select(['balance', 'held'])
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    const balance = row?.balance ?? 0;
    const held = row?.held ?? 0;
    return { accountId, balance, held, available: balance - held };
  }

  /**
   * Add (or, with a negative amount, remove) credits. A removal never takes the balance
   * below what is currently held. Returns the ledger entry id.
   */
  async grant(
    db: Executor,
    input: { accountId: string; amount: number; actorId: string | null; note?: string | null },
  ): Promise<number> {
    const { accountId, amount } = input;
    if (!Number.isSafeInteger(amount) || amount === 0 || Math.abs(amount) > MAX_GRANT) {
      throw validationError('amount', `must be a non-zero integer of at most ${MAX_GRANT} in size`);
    }
    const updated = await db
      .updateTable('wallets')
      .set({ balance: sql`balance + ${amount}`, updated_at: new Date() })
      .where('account_id', '=', accountId)
      .where(sql<boolean>`balance - held + ${amount} >= 0`)
      .where(sql<boolean>`balance + ${amount} <= ${MAX_BALANCE}`)
      .returning('account_id')
      .executeTakeFirst();
    if (!updated) {
      const w = await this.wallet(db, accountId);
      if (w.balance + amount > MAX_BALANCE) {
        throw validationError('amount', `would raise the balance above ${MAX_BALANCE}; it is ${w.balance}`);
      }
      throw new InsufficientCreditsError(-amount, w.available);
    }
    const entry = await db
      .insertInto('ledger_entries')
      .values({
        account_id: accountId,
        amount,
        kind: amount > 0 ? 'grant' : 'adjustment',
        reservation_id: null,
        resource_id: null,
        actor_id: input.actorId,
        note: input.note ?? null,
        created_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return entry.id;
  }

  /**
   * Hold `amount` credits: one statement that raises `held` only if `balance − held` covers
   * it and records the reservation. Throws InsufficientCreditsError otherwise.
   */
  async reserve(db: Executor, input: ReserveInput): Promise<void> {
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0) {
      throw new SlipwayError('VALIDATION_FAILED', 'a reservation must be a positive integer', {
        details: { field: 'amount' },
      });
    }
    const rows = await runStatement(db, RESERVE, [
      input.accountId,
      input.amount,
      input.reservationId,
      input.purpose ?? 'allocation',
      input.resourceId ?? null,
      input.expiresAt,
    ]);
    if (rows.length === 0) {
      const w = await this.wallet(db, input.accountId);
      throw new InsufficientCreditsError(input.amount, w.available);
    }
  }

  /**
   * Charge a pending reservation: `charge` (default: the whole hold, never more) leaves the
   * balance as a ledger entry and the hold is freed. Returns the amount charged, or null when
   * the reservation was no longer pending (already settled by someone else).
   */
  async commit(
    db: Executor,
    reservationId: string,
    opts: { charge?: number; resourceId?: string | null; actorId?: string | null } = {},
  ): Promise<number | null> {
    const charge = opts.charge;
    if (charge !== undefined && (!Number.isSafeInteger(charge) || charge < 0)) {
      throw validationError('charge', 'a charge must be a non-negative integer');
    }
    const [row] = await runStatement(db, COMMIT, [
      reservationId,
      charge ?? null,
      opts.resourceId ?? null,
      opts.actorId ?? null,
    ]);
    return row ? row.charged : null;
  }

  /**
   * Give back part of what a resource was charged (a smaller resize): a positive `refund`
   * entry. The caller bounds `amount` by what the resource was charged. Returns the entry id.
   */
  async refund(
    db: Executor,
    input: { accountId: string; amount: number; resourceId: string; actorId: string | null; note?: string | null },
  ): Promise<number> {
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0) {
      throw validationError('amount', 'a refund must be a positive integer');
    }
    const updated = await db
      .updateTable('wallets')
      .set({ balance: sql`balance + ${input.amount}`, updated_at: new Date() })
      .where('account_id', '=', input.accountId)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) throw new SlipwayError('NOT_FOUND', `account ${input.accountId} has no wallet`);
    const entry = await db
      .insertInto('ledger_entries')
      .values({
        account_id: input.accountId,
        amount: input.amount,
        kind: 'refund',
        reservation_id: null,
        resource_id: input.resourceId,
        actor_id: input.actorId,
        note: input.note ?? null,
        created_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return entry.id;
  }

  /** Free a pending hold without charging (`released`, or `expired` by the sweeper). */
  async release(db: Executor, reservationId: string, state: 'released' | 'expired' = 'released'): Promise<boolean> {
    const rows = await runStatement(db, RELEASE, [reservationId, state]);
    return rows.length > 0;
  }

  async reservationState(db: Executor, reservationId: string): Promise<ReservationState | undefined> {
    const row = await db.selectFrom('reservations').select('state').where('id', '=', reservationId).executeTakeFirst();
    return row?.state;
  }

  /** The cached balances and the sums they cache, for invariant checks. */
  async audit(db: Executor, accountId: string): Promise<LedgerAudit> {
    const w = await this.wallet(db, accountId);
    const ledger = await db
      .selectFrom('ledger_entries')
      .select(sql<number>`coalesce(sum(amount), 0)`.as('sum'))
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    const pending = await db
      .selectFrom('reservations')
      .select(sql<number>`coalesce(sum(amount), 0)`.as('sum'))
      .where('account_id', '=', accountId)
      .where('state', '=', 'pending')
      .executeTakeFirstOrThrow();
    return { balance: w.balance, ledgerSum: Number(ledger.sum), held: w.held, pendingSum: Number(pending.sum) };
  }
}
