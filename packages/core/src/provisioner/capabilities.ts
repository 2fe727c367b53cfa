/**
 * Optional capabilities. A provisioner implements any of these beside the five contract
 * members; the core detects them with the guards below. None is required, and the default
 * when one is missing is stated on each.
 */
import type { z } from 'zod';
import type { ResourceSpec } from '../domain.js';
import type { Allocation, ProvisionContext, Provisioner } from './provisioner.js';

/** Validates `options` of a create request. Default: options must be an empty object. */
export interface ValidatesOptions {
  readonly optionsSchema: z.ZodType<Record<string, unknown>>;
}

/** Power control. Default: power mutations answer INVALID_STATE. */
export interface PowerControl {
  start(allocation: Allocation, ctx: ProvisionContext): Promise<void>;
  stop(allocation: Allocation, ctx: ProvisionContext): Promise<void>;
  restart(allocation: Allocation, ctx: ProvisionContext): Promise<void>;
  reset(allocation: Allocation, mode: 'hard' | 'soft', ctx: ProvisionContext): Promise<void>;
}

/** Change CPU/RAM. Default: not reconfigurable. */
export interface Reconfigurable {
  reconfigure(
    allocation: Allocation,
    change: { vcpu?: number; memoryMb?: number },
    ctx: ProvisionContext,
  ): Promise<{ appliedAt: 'now' | 'next-boot' }>;
}

/** Attach and detach disks and NICs. Default: not supported. */
export interface Hotplug {
  attach(allocation: Allocation, device: HotplugDevice, ctx: ProvisionContext): Promise<void>;
  detach(allocation: Allocation, deviceId: string, ctx: ProvisionContext): Promise<void>;
}
export interface HotplugDevice {
  readonly type: 'disk' | 'nic';
  readonly id: string;
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Re-read the set of machines (pool). Default: nothing to refresh. */
export interface PoolRefresh {
  refresh(ctx: ProvisionContext): Promise<PoolRefreshResult>;
}
export interface PoolRefreshResult {
  readonly prevPoolSize: number;
  readonly poolSize: number;
  /** Machine ids new in the source. */
  readonly added: readonly string[];
  /** Machine ids gone from the source (allocated ones stay with their user, flagged). */
  readonly removed: readonly string[];
  /** Machine ids allocated to someone right now. */
  readonly stillAllocated: readonly string[];
}

/** List what exists at the provider, for orphan sweeps. Default: no orphan sweep. */
export interface Inventory {
  inventory(ctx: ProvisionContext): Promise<Array<{ externalId: string; requestId?: string; resourceId?: string }>>;
}

/** The provisioner's own price. Default: the pricing policy configured for it. */
export interface PriceQuote {
  quote(spec: ResourceSpec, options: Readonly<Record<string, unknown>>): number | Promise<number>;
}

/**
 * Durable background work (e.g. a release hook). `ctx.jobs.enqueue({ kind })` runs
 * `jobHandlers[kind]` with retries, exponential backoff and jitter; a handler throws to retry.
 * Default: enqueuing a kind without a handler fails the job with a critical event.
 */
export interface JobHandlers {
  readonly jobHandlers: Readonly<
    Record<string, (payload: Record<string, unknown>, ctx: ProvisionContext) => Promise<void>>
  >;
}

export const CAPABILITIES = {
  validatesOptions: (p: Provisioner): p is Provisioner & ValidatesOptions =>
    typeof (p as Partial<ValidatesOptions>).optionsSchema?.safeParse === 'function',
  powerControl: (p: Provisioner): p is Provisioner & PowerControl =>
    ['start', 'stop', 'restart', 'reset'].every(
      (m) => typeof (p as unknown as Record<string, unknown>)[m] === 'function',
    ),
  reconfigure: (p: Provisioner): p is Provisioner & Reconfigurable =>
    typeof (p as Partial<Reconfigurable>).reconfigure === 'function',
  hotplug: (p: Provisioner): p is Provisioner & Hotplug =>
    typeof (p as Partial<Hotplug>).attach === 'function' && typeof (p as Partial<Hotplug>).detach === 'function',
  poolRefresh: (p: Provisioner): p is Provisioner & PoolRefresh =>
    typeof (p as Partial<PoolRefresh>).refresh === 'function',
  inventory: (p: Provisioner): p is Provisioner & Inventory =>
    typeof (p as Partial<Inventory>).inventory === 'function',
  priceQuote: (p: Provisioner): p is Provisioner & PriceQuote => typeof (p as Partial<PriceQuote>).quote === 'function',
  jobHandlers: (p: Provisioner): p is Provisioner & JobHandlers =>
    typeof (p as Partial<JobHandlers>).jobHandlers === 'object' && (p as Partial<JobHandlers>).jobHandlers !== null,
} as const;

export type CapabilityName = keyof typeof CAPABILITIES;

/** Names of the optional capabilities a provisioner implements. */
export function capabilitiesOf(p: Provisioner): CapabilityName[] {
  return (Object.keys(CAPABILITIES) as CapabilityName[]).filter((name) => CAPABILITIES[name](p));
}
