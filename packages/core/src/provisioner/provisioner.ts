/**
 * The Provisioner contract: the one interface every compute back-end implements.
 *
 * Five members are required and changing them is a semver-major change. Everything else a
 * provisioner can do is an optional capability member (see ./capabilities.ts), each optional
 * on its own, that the core detects at run time, so adding one never breaks a plugin.
 *
 * The core never calls a provisioner directly: it goes through RuntimeProvisioner, which
 * adds time-outs, abort, output validation and error wrapping.
 */
import type { AllocationStatusState, ResourceKind, ResourceSpec } from '../domain.js';
import type { ProvisionerCapabilities } from './capabilities.js';
import type { JobQueue, ProvisionerStore } from './provisioner-store.js';

/** What a create request's `options` parse into; each provisioner narrows it with its `optionsSchema`. */
export type ProvisionerOptions = Record<string, unknown>;

/**
 * A provisioner. `Options` is what its `optionsSchema` parses a request's `options` into
 * (`defineProvisioner` infers it), so `allocate` receives them typed. The capability members
 * it may add (power, quote, refresh, ...) are each optional: see ProvisionerCapabilities.
 */
export interface Provisioner<Options extends ProvisionerOptions = ProvisionerOptions>
  extends ProvisionerCapabilities<Options> {
  /**
   * Unique key under which the provisioner is registered and stored on every resource
   * ("qemu", "pool", "digitalocean", "runpod", "demo"). Lowercase letters, digits and `-`.
   */
  readonly name: string;

  /** True when the provisioner allocates nothing real (demo pools, the demo provisioner). */
  readonly isDemo: boolean;

  /**
   * Create or assign a machine for `req`.
   *
   * Must be idempotent for the same `req.resourceId`/`req.requestId`: the core retries after
   * crashes and time-outs, and a retry must return the machine built by the first attempt
   * rather than build a second one. Should stop promptly when `ctx.signal` aborts. On
   * failure it throws; the core releases the credit hold and marks the resource failed.
   */
  allocate(req: AllocationRequest<Options>, ctx: ProvisionContext): Promise<Allocation>;

  /**
   * Destroy or return the machine. Idempotent: releasing something already gone (or never
   * created) succeeds. After a failed or interrupted allocate the core calls it with
   * `externalId: ''`: find whatever was half-built for `resourceId` and remove it.
   */
  release(allocation: Allocation, ctx: ProvisionContext): Promise<void>;

  /**
   * Report what the machine is doing now. A machine that no longer exists is `gone`.
   *
   * During crash recovery the core may not know the external id yet: it then passes
   * `externalId: ''` and the provisioner must look the machine up by `resourceId` (or the
   * request id it tagged the machine with), answering `gone` if nothing was built.
   */
  status(allocation: Allocation, ctx: ProvisionContext): Promise<AllocationStatus>;
}

/** What the core asks a provisioner to allocate. */
export interface AllocationRequest<Options extends ProvisionerOptions = ProvisionerOptions> {
  /** Slipway's id for the resource; stable across retries. */
  readonly resourceId: string;
  /** The client's idempotency key; stable across retries. Tag cloud resources with it. */
  readonly requestId: string;
  /** Account that owns the resource. */
  readonly ownerId: string;
  readonly name: string;
  readonly kind: ResourceKind;
  readonly spec: ResourceSpec;
  /** Provisioner-specific options, already parsed by the provisioner's `optionsSchema`. */
  readonly options: Readonly<Options>;
  readonly labels: Readonly<Record<string, string>>;
  readonly expiresAt: Date | null;
}

/** What a provisioner returns from `allocate`; stored on the resource and handed back later. */
export interface Allocation {
  /** The same `resourceId` the request carried. */
  readonly resourceId: string;
  /** The provider's id (droplet id, pod id, pool machine id, QEMU VM id). */
  readonly externalId: string;
  readonly ip?: string | null;
  readonly sshPort?: number | null;
  readonly cockpitUrl?: string | null;
  /** State right after allocation; defaults to `running`. */
  readonly state?: AllocationStatusState;
  /** Actual cost in credits when it differs from the quote (never more than the hold). */
  readonly cost?: number;
  /** Provisioner-private data, kept by the core and given back on release and status. */
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface AllocationStatus {
  readonly state: AllocationStatusState;
  readonly ip?: string | null;
  readonly sshPort?: number | null;
  readonly cockpitUrl?: string | null;
  readonly message?: string;
}

/** What the core hands a provisioner on every call. */
export interface ProvisionContext {
  /** Aborted on time-out or when the caller gives up; long operations must honour it. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Emit a lifecycle event (stored in the event log with the resource). */
  readonly events: EventSink;
  /** Shared state namespaced to this provisioner, in the core's database. */
  readonly store: ProvisionerStore;
  /** Durable jobs, run by the core with retries; handlers come from the `jobHandlers` capability. */
  readonly jobs: JobQueue;
}

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export interface Clock {
  now(): Date;
}

export interface ProvisionerEvent {
  readonly action: string;
  readonly severity?: 'info' | 'warning' | 'critical';
  readonly data?: Record<string, unknown>;
}

export interface EventSink {
  emit(event: ProvisionerEvent): void;
}
