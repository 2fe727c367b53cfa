/** a retry racing its first request, with credits for one create, is answered as a retry. */
import { describe, expect, it } from 'vitest';
import { type Actor, createSlipway, demoProvisioner } from '../src/index.js';
import { createTestStorage } from '../src/testing/index.js';

const admin: Actor = { id: 'admin', role: 'admin' };
const alice: Actor = { id: 'alice', role: 'user' };
const input = { name: 'vm', provisioner: 'demo', spec: { vcpu: 2, memoryMb: 1024, diskGb: 20 }, requestId: 'r1' };

describe('idempotent retry race (postgres)', () => {
  it('never answers INSUFFICIENT_CREDITS for the credits its own first request holds', async () => {
    const storage = await createTestStorage('postgres');
    const a = await createSlipway({ database: storage, provisioners: [demoProvisioner()], rateLimits: {} });
    try {
      await a.accounts.grant(admin, { accountId: 'alice', amount: 40 });
      const codes: string[] = [];
      for (let round = 0; round < 20 && !codes.includes('INSUFFICIENT_CREDITS'); round++) {
        const req = { ...input, requestId: `r${round}` };
        const both = await Promise.allSettled([
          a.resources.create(alice, req, { wait: false }),
          a.resources.create(alice, req, { wait: false }),
        ]);
        for (const r of both)
          codes.push(r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: string }).code));
        await a.runJobs();
        await a.accounts.grant(admin, { accountId: 'alice', amount: 34 });
      }
      expect(codes).not.toContain('INSUFFICIENT_CREDITS');
    } finally {
      await a.close();
      await storage.close();
    }
  });
});
