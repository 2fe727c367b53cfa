/**
 * Admission through the core: the two-phase path a create takes, without the rest of the
 * create (validation, rate limit, resource row, job). One op =
 *   statement 1: CreditLedger.reserve  (one conditional CTE: raise `held`, insert the hold)
 *   statement 2: CreditLedger.commit   (one CTE: settle the hold, charge the wallet, ledger entry)
 * each a named statement and its own transaction, on a pg.Pool of `concurrency`.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { CreditLedger, type SlipwayStorage } from '@slipway/core';
import type { BenchDatabase } from './database.js';
import { type LoadSamples, sampleClosedLoop } from './load.js';

/** Credits per reservation; the same constant is in the pgbench script. */
export const ADMISSION_AMOUNT = 10;
/** Wallet ids are the decimal strings "1".."N", so pgbench can pick one with random(1, N). */
export const walletId = (n: number): string => String(n);
const SEED_BALANCE = 1_000_000_000;
const HOLD_TTL_MS = 15 * 60_000;

export interface AdmissionCell {
  wallets: number;
  concurrency: number;
}

/** Accounts "1".."count" with a balance no benchmark run can exhaust. */
export async function seedWallets(db: BenchDatabase, count: number): Promise<void> {
  const storage = await db.open(8);
  const ledger = new CreditLedger();
  try {
    let next = 1;
    const worker = async () => {
      while (next <= count) {
        const id = walletId(next++);
        await storage.db.transaction().execute(async (trx) => {
          await ledger.ensureAccount(trx, id);
          await ledger.grant(trx, { accountId: id, amount: SEED_BALANCE, actorId: 'bench', note: 'bench seed' });
        });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    await storage.close();
  }
}

/** A pool of `concurrency` connections that runs admission segments; close() when done. */
export interface AdmissionDriver {
  run(timing: { warmupMs: number; durationMs: number }): Promise<LoadSamples>;
  close(): Promise<void>;
}

export async function admissionDriver(db: BenchDatabase, cell: AdmissionCell): Promise<AdmissionDriver> {
  const storage: SlipwayStorage = await db.open(cell.concurrency);
  const ledger = new CreditLedger();
  const op = async () => {
    const reservationId = randomUUID();
    const accountId = walletId(cell.wallets === 1 ? 1 : randomInt(1, cell.wallets + 1));
    await ledger.reserve(storage.db, {
      reservationId,
      accountId,
      amount: ADMISSION_AMOUNT,
      expiresAt: new Date(Date.now() + HOLD_TTL_MS),
    });
    // ... the provisioner allocates here ...
    const charged = await ledger.commit(storage.db, reservationId);
    if (charged !== ADMISSION_AMOUNT) throw new Error(`commit of ${reservationId} charged ${charged}`);
    return undefined;
  };
  return {
    run: (timing) => sampleClosedLoop({ concurrency: cell.concurrency, ...timing, op }),
    close: () => storage.close(),
  };
}
