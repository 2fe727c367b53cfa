import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CreditLedger, InsufficientCreditsError } from '../src/index.js';
import { createTestStorage, type TestStorage, testEngines } from '../src/testing/index.js';

const engines = await testEngines();

describe.each(engines)('credit ledger on %s', (engine) => {
  let storage: TestStorage;
  const ledger = new CreditLedger();
  const soon = () => new Date(Date.now() + 60_000);

  beforeEach(async () => {
    storage = await createTestStorage(engine);
    await ledger.ensureAccount(storage.db, 'alice');
  });
  afterEach(async () => storage.close());

  const expectConsistent = async (account = 'alice') => {
    const a = await ledger.audit(storage.db, account);
    expect(a.balance).toBe(a.ledgerSum);
    expect(a.held).toBe(a.pendingSum);
    expect(a.balance - a.held).toBeGreaterThanOrEqual(0);
    return a;
  };

  it('grants credits as ledger entries', async () => {
    await ledger.grant(storage.db, { accountId: 'alice', amount: 100, actorId: 'admin' });
    await ledger.grant(storage.db, { accountId: 'alice', amount: 50, actorId: 'admin', note: 'bonus' });
    expect(await ledger.wallet(storage.db, 'alice')).toEqual({
      accountId: 'alice',
      balance: 150,
      held: 0,
      available: 150,
    });
    await expectConsistent();
  });

  it('never removes credits that are held', async () => {
    await ledger.grant(storage.db, { accountId: 'alice', amount: 100, actorId: 'admin' });
    await ledger.reserve(storage.db, {
      reservationId: randomUUID(),
      accountId: 'alice',
      amount: 80,
      expiresAt: soon(),
    });
    await expect(
      ledger.grant(storage.db, { accountId: 'alice', amount: -30, actorId: 'admin' }),
    ).rejects.toBeInstanceOf(InsufficientCreditsError);
    await ledger.grant(storage.db, { accountId: 'alice', amount: -20, actorId: 'admin' });
    expect((await expectConsistent()).balance).toBe(80);
  });

  it('reserve → commit charges once; commit again is a no-op', async () => {
    await ledger.grant(storage.db, { accountId: 'alice', amount: 100, actorId: 'admin' });
    const id = randomUUID();
    await ledger.reserve(storage.db, { reservationId: id, accountId: 'alice', amount: 40, expiresAt: soon() });
    expect(await ledger.wallet(storage.db, 'alice')).toMatchObject({ balance: 100, held: 40, available: 60 });
    expect(await ledger.commit(storage.db, id)).toBe(40);
    expect(await ledger.commit(storage.db, id)).toBeNull();
    expect(await ledger.release(storage.db, id)).toBe(false);
    expect(await ledger.wallet(storage.db, 'alice')).toMatchObject({ balance: 60, held: 0, available: 60 });
    await expectConsistent();
  });

  it('commit may charge less than the hold and frees the rest', async () => {
    await ledger.grant(storage.db, { accountId: 'alice', amount: 100, actorId: 'admin' });
    const id = randomUUID();
    await ledger.reserve(storage.db, { reservationId: id, accountId: 'alice', amount: 40, expiresAt: soon() });
    expect(await ledger.commit(storage.db, id, { charge: 25 })).toBe(25);
    expect(await ledger.commit(storage.db, randomUUID(), { charge: 1 })).toBeNull();
    expect(await ledger.wallet(storage.db, 'alice')).toMatchObject({ balance: 75, held: 0 });
    await expectConsistent();
  });

  it('a commit never charges more than the hold', async () => {
    await ledger.grant(storage.db, { accountId: 'alice', amount: 100, actorId: 'admin' });
    const id = randomUUID();
    await ledger.reserve(storage.db, { reservationId: id, accountId: 'alice', amount: 10, expiresAt: soon() });
    expect(await ledger.commit(storage.db, id, { charge: 500 })).toBe(10);
    await expectConsistent();
  });

  it('release frees the hold without a ledger entry', async () => {
    await ledger.grant(storage.db, { accountId: 'alice', amount: 100, actorId: 'admin' });
    const id = randomUUID();
    await ledger.reserve(storage.db, { reservationId: id, accountId: 'alice', amount: 70, expiresAt: soon() });
    expect(await ledger.release(storage.db, id)).toBe(true);
    expect(await ledger.release(storage.db, id)).toBe(false);
    expect(await ledger.commit(storage.db, id)).toBeNull();
    expect(await ledger.wallet(storage.db, 'alice')).toMatchObject({ balance: 100, held: 0, available: 100 });
    await expectConsistent();
  });

  it('refuses a reserve beyond what is available, with required and available', async () => {
    await ledger.grant(storage.db, { accountId: 'alice', amount: 30, actorId: 'admin' });
    await ledger.reserve(storage.db, {
      reservationId: randomUUID(),
      accountId: 'alice',
      amount: 20,
      expiresAt: soon(),
    });
    const error = await ledger
      .reserve(storage.db, { reservationId: randomUUID(), accountId: 'alice', amount: 11, expiresAt: soon() })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientCreditsError);
    expect(error).toMatchObject({ required: 11, available: 10 });
    await expectConsistent();
  });

  it('concurrent reserves never overspend', async () => {
    await ledger.grant(storage.db, { accountId: 'alice', amount: 100, actorId: 'admin' });
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, () =>
        ledger.reserve(storage.db, { reservationId: randomUUID(), accountId: 'alice', amount: 7, expiresAt: soon() }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(ok).toBe(14); // 14 × 7 = 98 ≤ 100 < 105
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InsufficientCreditsError);
    }
    const audit = await expectConsistent();
    expect(audit.held).toBe(98);
  });

  it('concurrent settles of one reservation charge exactly once', async () => {
    await ledger.grant(storage.db, { accountId: 'alice', amount: 100, actorId: 'admin' });
    const id = randomUUID();
    await ledger.reserve(storage.db, { reservationId: id, accountId: 'alice', amount: 30, expiresAt: soon() });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        storage.db
          .transaction()
          .execute(async (trx) => (i % 2 === 0 ? (await ledger.commit(trx, id)) !== null : ledger.release(trx, id))),
      ),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const audit = await expectConsistent();
    expect([70, 100]).toContain(audit.balance);
    expect(audit.held).toBe(0);
  });
});
