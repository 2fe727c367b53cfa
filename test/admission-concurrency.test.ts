/**
 * Acceptance: 100 concurrent creates against a wallet that covers exactly 10. Runs on real
 * PostgreSQL (many connections, real row locks) and on PGlite.
 */

import { type Actor, createSlipway, demoProvisioner, isSlipwayError, type Slipway } from '@slipway/core';
import { createTestStorage, type TestStorage, testEngines } from '@slipway/core/testing';
import { afterEach, describe, expect, it } from 'vitest';

const engines = await testEngines();
const admin: Actor = { id: 'admin', role: 'admin' };
const user: Actor = { id: 'racer', role: 'user' };
const SPEC = { vcpu: 1, memoryMb: 512, diskGb: 0 }; // standard price 15
const PRICE = 15;

describe.each(engines)('admission under 100 concurrent creates on %s', (engine) => {
  let storage: TestStorage;
  let slipway: Slipway;
  afterEach(async () => {
    await slipway.close();
    await storage.close();
  });

  async function setup(opts: Parameters<typeof demoProvisioner>[0] = {}) {
    storage = await createTestStorage(engine, { poolSize: 20 });
    slipway = await createSlipway({ database: storage, provisioners: [demoProvisioner(opts)], rateLimits: {} });
    await slipway.accounts.grant(admin, { accountId: user.id, amount: PRICE * 10 });
  }

  const fire = () =>
    Promise.allSettled(
      Array.from({ length: 100 }, (_, i) =>
        slipway.resources.create(user, { name: `c${i}`, provisioner: 'demo', spec: SPEC, requestId: `c-${i}` }),
      ),
    );

  async function expectLedgerAgrees() {
    const audit = await slipway.ledger.audit(storage.db, user.id);
    expect(audit.balance).toBe(audit.ledgerSum);
    expect(audit.held).toBe(audit.pendingSum);
    expect(audit.held).toBe(0);
    const reservations = await storage.db.selectFrom('reservations').select(['state', 'resource_id']).execute();
    const resources = await storage.db.selectFrom('resources').select(['id', 'status', 'cost']).execute();
    const stateOf = new Map(reservations.map((r) => [r.resource_id, r.state]));
    for (const r of resources) {
      expect(stateOf.get(r.id)).toBe(r.status === 'RUNNING' ? 'committed' : 'released');
    }
    return { audit, resources };
  }

  it('exactly 10 succeed; the rest get INSUFFICIENT_CREDITS; balance, holds and ledger agree', async () => {
    await setup({ allocateDelayMs: 5 });
    const results = await fire();
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(10);
    expect(failed).toHaveLength(90);
    for (const f of failed) expect(isSlipwayError(f.reason, 'INSUFFICIENT_CREDITS')).toBe(true);
    const { audit, resources } = await expectLedgerAgrees();
    expect(audit.balance).toBe(0);
    expect(resources).toHaveLength(10); // refused requests wrote nothing
  });

  it('a provisioner failing half its allocations: every failure releases its hold', async () => {
    await setup({
      allocateDelayMs: 5,
      shouldFail: (req) => Number(req.requestId.slice(2)) % 2 === 1,
    });
    const results = await fire();
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const reasons = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    const provisionerFailures = reasons.filter((e) => isSlipwayError(e, 'PROVISIONER_FAILED')).length;
    expect(
      reasons.every((e) => isSlipwayError(e, 'PROVISIONER_FAILED') || isSlipwayError(e, 'INSUFFICIENT_CREDITS')),
    ).toBe(true);
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(10);
    expect(provisionerFailures).toBeGreaterThan(0);
    const { audit, resources } = await expectLedgerAgrees();
    expect(audit.balance).toBe(PRICE * 10 - PRICE * ok);
    expect(resources.filter((r) => r.status === 'FAILED')).toHaveLength(provisionerFailures);
    expect(resources.filter((r) => r.status === 'FAILED').every((r) => r.cost === 0)).toBe(true);

    // With the failures refunded, sequential retries of the even requests use up the wallet exactly.
    for (let i = 0; i < 100 && (await slipway.ledger.wallet(storage.db, user.id)).available >= PRICE; i += 2) {
      await slipway.resources.create(user, { name: `c${i}`, provisioner: 'demo', spec: SPEC, requestId: `c-${i}` });
    }
    const end = await expectLedgerAgrees();
    expect(end.audit.balance).toBe(0);
    expect(end.resources.filter((r) => r.status === 'RUNNING')).toHaveLength(10);
  });
});
