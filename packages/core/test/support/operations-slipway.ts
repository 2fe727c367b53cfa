/**
 * The Slipway the operation tests share: one (wrapped) demo provisioner, no rate limits, fast
 * job polling and retries, and 100 credits granted to `alice`.
 */
import { type Actor, createSlipway, type Provisioner, type Slipway } from '../../src/index.js';
import type { TestStorage } from '../../src/testing/index.js';

const admin: Actor = { id: 'admin', role: 'admin' };

export async function operationsSlipway(
  storage: TestStorage,
  provisioner: Provisioner,
  opts: { start?: boolean } = {},
): Promise<Slipway> {
  const slipway = await createSlipway({
    database: storage,
    provisioners: [provisioner],
    rateLimits: {},
    jobs: { pollMs: 10, backoff: { baseMs: 1, maxMs: 5 } },
  });
  await slipway.accounts.grant(admin, { accountId: 'alice', amount: 100 });
  if (opts.start ?? true) await slipway.start();
  return slipway;
}
