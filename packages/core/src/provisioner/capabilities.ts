/**
 * Optional capabilities: members a provisioner may add beside the five required ones. Each
 * member is optional on its own (a provisioner with `stop` but no `reset` is valid). The core
 * detects them at run time and answers a missing one with NOT_SUPPORTED; none is required,
 * and the default without each is stated on it.
 *
 * `Promise<X | void>` is deliberate (biome's noConfusingVoidType is off for this file): a
 * plugin may answer with nothing, and `async start() {}` must type-check as an implementation.
 */
import type { z } from 'zod';
import type { AllocationStatusState, ResourceSpec } from '../domain.js';
import type { Allocation, ProvisionContext, ProvisionerEvent, ProvisionerOptions } from './provisioner.js';

/** A durable job handler: throws to be retried with backoff. */
export type ProvisionerJobHandler = (payload: Record<string, unknown>, ctx: ProvisionContext) => Promise<void>;

/** One thing that exists at the provider, for orphan sweeps. */
export interface InventoryItem {
  readonly externalId: string;
  /** The resource it was built for, from the tag/label/record the provisioner put on it. */
  readonly resourceId?: string;
  readonly requestId?: string;
}

export interface ProvisionerCapabilities<Options extends ProvisionerOptions = ProvisionerOptions> {
  /**
   * Parses a create request's `options` before any credit moves; what it returns reaches
   * `allocate` and `quote` as `options`. Default: `options` must be an empty object.
   */
  readonly optionsSchema?: z.ZodType<Options>;

  /**
   * The provisioner's own price in integer credits, charged once when the machine is built.
   * `terms` says how long it is asked for, so a provider that bills by the hour can price the
   * whole lease. Default: the pricing policy configured for it.
   */
  quote?(spec: ResourceSpec, options: Options, ctx: ProvisionContext, terms: QuoteTerms): number | Promise<number>;

  /**
   * Power on a stopped machine. A machine that boots reports the size it now runs with, so
   * the core can apply a pending resize (see `reconfigure`). Default: NOT_SUPPORTED.
   */
  start?(allocation: Allocation, ctx: ProvisionContext): Promise<PowerResult | void>;
  /** Power off (gracefully, then hard after a deadline). Default: NOT_SUPPORTED. */
  stop?(allocation: Allocation, ctx: ProvisionContext): Promise<void>;
  /** Reboot (gracefully, then hard after a deadline); may apply a pending resize. Default: NOT_SUPPORTED. */
  restart?(allocation: Allocation, ctx: ProvisionContext): Promise<PowerResult | void>;
  /** Reset: `hard` is a power cycle, `soft` an ACPI/guest reset. Default: NOT_SUPPORTED. */
  reset?(allocation: Allocation, mode: 'hard' | 'soft', ctx: ProvisionContext): Promise<PowerResult | void>;

  /**
   * Change CPU/RAM, live or at the next boot. A change equal to the running size drops a
   * pending one (a revert). Default: NOT_SUPPORTED.
   */
  reconfigure?(allocation: Allocation, change: ReconfigureChange, ctx: ProvisionContext): Promise<ReconfigureResult>;

  /** Attach a disk or NIC. Default: NOT_SUPPORTED. */
  attach?(allocation: Allocation, device: HotplugDevice, ctx: ProvisionContext): Promise<void>;
  /**
   * Detach a device by id. `pending` means the guest has not acknowledged it yet: the
   * provisioner finishes it later and says so through `watch` (`deviceDetached`).
   * Default: NOT_SUPPORTED.
   */
  detach?(allocation: Allocation, deviceId: string, ctx: ProvisionContext): Promise<DetachResult | void>;

  /**
   * The images and sizes a request may name, and which `options` fields take their names, so
   * a client (the dashboard's launch form) can offer lists instead of free text. Say only what
   * users may see: no credentials, host paths or prices. The core keeps an answer for a minute
   * (`CATALOG_TTL_MS`). Default: no catalog (the client asks for vCPU/RAM/disk;
   * `provisioners { catalog }` is null).
   */
  catalog?(ctx: ProvisionContext): Catalog | Promise<Catalog>;

  /** Re-read the set of machines (pools). Default: nothing to refresh (NOT_SUPPORTED). */
  refresh?(ctx: ProvisionContext): Promise<PoolRefreshResult>;

  /**
   * List every machine of ours that exists at the provider (what carries our tags), each with
   * the resource it was built for. The core's orphan reaper then releases a machine no live
   * resource stands behind, once it has been one for a grace period, with
   * `release({ resourceId: item.resourceId ?? '', externalId: item.externalId })`; and marks
   * GONE a running resource that is in no item, once `status` confirms it is `gone`. Throw
   * when the provider cannot be asked: an empty answer means nothing exists. Default: no
   * orphan reaper for this provisioner.
   */
  inventory?(ctx: ProvisionContext): Promise<readonly InventoryItem[]>;

  /**
   * Machines on this replica's own host (QEMU): the host the replica registers, with the
   * capacity placement may fill. Jobs of a resource placed here run only on this replica.
   * Default: not host-placed (any replica serves any resource).
   */
  readonly host?: HostDescriptor;

  /**
   * Started once per replica when the core's workers start, stopped when they stop: watches
   * the provisioner's machines (re-attaching to those that outlived a restart) and reports
   * changes without being polled. Default: nothing watches.
   */
  watch?(ctx: WatchContext): Promise<WatchHandle>;

  /**
   * Durable background work: `ctx.jobs.enqueue({ kind })` runs `jobHandlers[kind]` with
   * retries, exponential backoff and jitter. Default: a job of an unknown kind fails with a
   * critical event.
   */
  readonly jobHandlers?: Readonly<Record<string, ProvisionerJobHandler>>;
}

/** What a provisioner offers by name: see `catalog`. */
export interface Catalog {
  /** The `options` field a request names one of `images` in (e.g. `image`); absent: images cannot be picked. */
  readonly imageOption?: string;
  readonly images: readonly CatalogImage[];
  /** The `options` field a request names one of `sizes` in (`size`; RunPod's `gpuType`); absent: sizes cannot be picked. */
  readonly sizeOption?: string;
  readonly sizes: readonly CatalogSize[];
  /**
   * True when a request may name no size and give any vCPU/RAM/disk, which the provisioner fits
   * (DigitalOcean picks the cheapest size that holds it); false when every spec must be one of `sizes`.
   */
  readonly anySpec: boolean;
}

export interface CatalogImage {
  readonly name: string;
  /** Shown to users (`debian-12`, an OS type). */
  readonly description?: string;
  /** The image a request that names none gets. */
  readonly isDefault?: boolean;
}

export interface CatalogSize {
  readonly name: string;
  readonly description?: string;
  /**
   * The spec a request naming this size carries. A field left out is the request's to choose
   * (RunPod's GPU types fix the GPU only: vCPU/RAM/disk stay minimums the request gives).
   */
  readonly vcpu?: number;
  readonly memoryMb?: number;
  readonly diskGb?: number;
  readonly gpu?: { readonly count: number; readonly model: string; readonly memoryGb?: number };
  /** The size a request that names none gets (when `anySpec` is false, or the GPU a RunPod pod gets). */
  readonly isDefault?: boolean;
}

/** What a price depends on beside the size: how long the machine is asked for. */
export interface QuoteTerms {
  /** Seconds from now until the resource expires; null when it has no expiry. */
  readonly ttlSeconds: number | null;
}

export interface ReconfigureChange {
  readonly vcpu?: number;
  readonly memoryMb?: number;
}
export interface ReconfigureResult {
  readonly appliedAt: 'now' | 'next-boot';
}

/** What a power operation reports: the size the machine boots with, when it booted. */
export interface PowerResult {
  readonly running?: { readonly vcpu: number; readonly memoryMb: number };
}

export interface DetachResult {
  readonly state: 'detached' | 'pending';
}

export interface HostDescriptor {
  /** Unique among hosts; two replicas on one machine pose as two hosts with two names. */
  readonly name: string;
  readonly capacity: { readonly vcpu: number; readonly memoryMb: number; readonly diskGb: number };
}

/** A change a watcher saw on one machine. */
export interface MachineReport {
  /** The machine's state now (a VM whose process died is `stopped` with a message, or `failed`). */
  readonly state?: AllocationStatusState;
  readonly message?: string;
  /** A lifecycle event to store with the resource (SHUTDOWN, RESET, GUEST_PANICKED, ...). */
  readonly event?: ProvisionerEvent;
  /** A detach that was `pending` has completed. */
  readonly deviceDetached?: string;
  /** The machine booted with this size (applies a pending resize). */
  readonly running?: PowerResult['running'];
}

export interface WatchContext extends Omit<ProvisionContext, 'events'> {
  /** Tell the core about a change on one of the provisioner's machines. */
  report(resourceId: string, report: MachineReport): Promise<void>;
}

export interface WatchHandle {
  close(): Promise<void>;
}

export interface HotplugDevice {
  readonly type: 'disk' | 'nic';
  readonly id: string;
  readonly options?: Readonly<Record<string, unknown>>;
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

/** The names of the capability members, as `provisioners { capabilities }` lists them. */
export const CAPABILITY_NAMES = [
  'optionsSchema',
  'quote',
  'start',
  'stop',
  'restart',
  'reset',
  'reconfigure',
  'attach',
  'detach',
  'refresh',
  'inventory',
  'catalog',
  'host',
  'watch',
  'jobHandlers',
] as const satisfies readonly (keyof ProvisionerCapabilities)[];

export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

/** A provisioner known to have the capability members `K`. */
export type With<K extends CapabilityName, Options extends ProvisionerOptions = ProvisionerOptions> = Required<
  Pick<ProvisionerCapabilities<Options>, K>
>;

// Named groups, for plugins that want to state what they implement in their own types.
export type ValidatesOptions<Options extends ProvisionerOptions = ProvisionerOptions> = With<'optionsSchema', Options>;
export type PriceQuote<Options extends ProvisionerOptions = ProvisionerOptions> = With<'quote', Options>;
export type PowerControl = With<'start' | 'stop' | 'restart' | 'reset'>;
export type Reconfigurable = With<'reconfigure'>;
export type Hotplug = With<'attach' | 'detach'>;
export type PoolRefresh = With<'refresh'>;
export type Inventory = With<'inventory'>;
export type HasCatalog = With<'catalog'>;
export type JobHandlers = With<'jobHandlers'>;
export type HostPlaced = With<'host' | 'watch'>;

/** Names of the capability members `p` has (functions, or a schema / handler table). */
export function capabilitiesOf(p: ProvisionerCapabilities): CapabilityName[] {
  return CAPABILITY_NAMES.filter((name) => {
    const member: unknown = p[name];
    if (name === 'optionsSchema') return typeof (member as { safeParse?: unknown })?.safeParse === 'function';
    if (name === 'jobHandlers' || name === 'host') return typeof member === 'object' && member !== null;
    return typeof member === 'function';
  });
}
