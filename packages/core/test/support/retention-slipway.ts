/**
 * What the retention tests share: a fresh database, a manual clock, a Slipway with the
 * persistent demo provisioner (its machine records are what retention retires) and the
 * retention periods under test, and alice with 1000 credits.
 */
import {
  type Actor,
  createSlipway,
  type DatabaseEngine,
  demoProvisioner,
  type RetentionSettings,
  type Slipway,
} from '../../src/index.js';
import { createTestStorage, type ManualClock, manualClock, type TestStorage } from '../../src/testing/index.js';

export const admin: Actor = { id: 'admin', role: 'admin' };
export const alice: Actor = { id: 'alice', role: 'user' };
export const DAY = 24 * 3_600_000;
export const vmInput = (name: string) => ({
  name,
  provisioner: 'demo',
  spec: { vcpu: 1, memoryMb: 512, diskGb: 10 },
});

export interface RetentionSetup {
  storage: TestStorage;
  clock: ManualClock;
  slipway: Slipway;
  close(): Promise<void>;
}

export async function retentionSlipway(
  engine: DatabaseEngine,
  retention: Partial<RetentionSettings>,
): Promise<RetentionSetup> {
  const storage = await createTestStorage(engine);
  const clock = manualClock(new Date());
  const slipway = await createSlipway({
    database: storage,
    provisioners: [demoProvisioner({ persistent: true })],
    clock,
    rateLimits: {},
    retention,
  });
  await slipway.accounts.grant(admin, { accountId: 'alice', amount: 1000 });
  return {
    storage,
    clock,
    slipway,
    async close() {
      await slipway.close();
      await storage.close();
    },
  };
}
