/** concurrent admissions on one wallet never overspend, and the ledger stays balanced. */
import { describe, expect, it } from 'vitest';
import { type Actor, createSlipway, demoProvisioner, InsufficientCreditsError } from '../src/index.js';
import { createTestStorage } from '../src/testing/index.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 } }; // 34

describe('admission race (postgres)', () => {
  it('40 concurrent creates (half waiting, half not) over credits for 5: exactly 5 admitted', async () => {
    const storage = await createTestStorage('postgres', { poolSize: 20 });
    const a = await createSlipway({ database: storage, provisioners: [demoProvisioner()], rateLimits: {} });
    try {
      await a.accounts.grant(admin, { accountId: 'alice', amount: 34 * 5 + 33 });
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          a.resources.create(alice, { ...input, name: `vm${i}` }, { wait: i % 2 === 0 }),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      const refused = results.filter((r) => r.status === 'rejected' && r.reason instanceof InsufficientCreditsError);
      expect(ok).toBe(5);
      expect(refused.length).toBe(35);
      await a.runJobs();
      expect(await a.ledger.audit(storage.db, 'alice')).toEqual({ balance: 33, ledgerSum: 33, held: 0, pendingSum: 0 });
      const seqs = await storage.db.selectFrom('events').select('seq').orderBy('seq').execute();
      expect(seqs.length).toBeGreaterThan(0);
    } finally {
      await a.close();
      await storage.close();
    }
  });
});
