/** The Slipway the reaper tests share: the inventory provisioner, a manual clock, sweeps run by hand. */
import {
  type Actor,
  createSlipway,
  type OrphanSweep,
  type Slipway,
  type SlipwayEvent,
  type SlipwayOptions,
} from '../../src/index.js';
import type { ManualClock, TestStorage } from '../../src/testing/index.js';
import { type Cloud, cloudProvisioner } from './inventory-provisioner.js';

export const admin: Actor = { id: 'admin', role: 'admin' };
export const alice: Actor = { id: 'alice', role: 'user' };
export const INTERVAL = 60_000;
export const GRACE = 600_000;
export const SPEC = { vcpu: 1, memoryMb: 512, diskGb: 10 }; // 17 credits

export async function reaperSlipway(
  storage: TestStorage,
  clock: ManualClock,
  cloud: Cloud,
  over: Partial<SlipwayOptions> = {},
): Promise<Slipway> {
  return createSlipway({
    database: storage,
    provisioners: [cloudProvisioner(cloud)],
    clock,
    rateLimits: {},
    // Holds never lapse here: an allocation left queued stays in flight.
    policy: { holdTtlMs: 30 * 86_400_000 },
    jobs: { backoff: { baseMs: 1_000, maxMs: 10_000 } },
    reaper: { intervalMs: INTERVAL, graceMs: GRACE },
    sweepIntervalMs: 3_600_000, // swept by hand
    ...over,
  });
}

/** Schedule the reaper's sweeps and run every job due; returns how many jobs ran. */
export async function sweepAndRun(s: Slipway): Promise<number> {
  await s.sweep();
  return s.runJobs();
}

export async function lastSweep(s: Slipway): Promise<OrphanSweep | undefined> {
  return (await s.reaper.lastSweeps(admin)).find((x) => x.provisioner === 'cloud');
}

export async function eventsNamed(s: Slipway, action: string): Promise<SlipwayEvent[]> {
  return (await s.eventService.list(admin, { first: 500 })).filter((e) => e.action === action);
}
