/**
 * The only way the core calls a plugin. Adds a time-out and AbortSignal to every call,
 * validates what the plugin returns against the contract, wraps its errors with `cause`,
 * and logs each call. Plugins stay simple; the core stays safe from them.
 */
import type { z } from 'zod';
import type { ResourceSpec } from '../domain.js';
import { errorMessage, SlipwayError } from '../errors.js';
import { runAbortable } from '../util/abort.js';
import { TtlCache } from '../util/ttl-cache.js';
import {
  type CapabilityName,
  type Catalog,
  capabilitiesOf,
  type DetachResult,
  type HostDescriptor,
  type HotplugDevice,
  type InventoryItem,
  type PoolRefreshResult,
  type PowerResult,
  type QuoteTerms,
  type ReconfigureChange,
  type ReconfigureResult,
  type WatchContext,
  type WatchHandle,
} from './capabilities.js';
import {
  AllocationSchema,
  CatalogSchema,
  DetachResultSchema,
  HostDescriptorSchema,
  InventorySchema,
  PowerResultSchema,
  ReconfigureSchema,
  RefreshSchema,
  StatusSchema,
} from './contract-schemas.js';
import { parseProvisionerOptions, wrapError } from './plugin-errors.js';
import type {
  Allocation,
  AllocationRequest,
  AllocationStatus,
  EventSink,
  Logger,
  ProvisionContext,
  Provisioner,
  ProvisionerOptions,
} from './provisioner.js';
import {
  type CallContext,
  DEFAULT_TIMEOUTS,
  type RuntimeDeps,
  type RuntimeOperation,
  type RuntimeOptions,
} from './runtime-options.js';

export type { CallContext, RuntimeDeps, RuntimeOperation, RuntimeOptions } from './runtime-options.js';

/**
 * A registered provisioner as the core and the server see it. Every member of the plugin is
 * reached through a typed method here; a capability the plugin lacks answers NOT_SUPPORTED.
 */
export class RuntimeProvisioner {
  readonly name: string;
  readonly isDemo: boolean;
  /** The optional capability members the plugin has. */
  readonly capabilities: readonly CapabilityName[];
  readonly #plugin: Provisioner;
  readonly #timeouts: typeof DEFAULT_TIMEOUTS;
  readonly #logger: Logger;
  readonly #deps: RuntimeDeps;
  readonly #catalog = new TtlCache<Catalog>(CATALOG_TTL_MS);

  constructor(plugin: Provisioner, deps: RuntimeDeps, options: RuntimeOptions = {}) {
    this.#plugin = plugin;
    this.name = plugin.name;
    this.isDemo = plugin.isDemo;
    this.capabilities = capabilitiesOf(plugin);
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#logger = deps.logger.child({ provisioner: plugin.name });
    this.#deps = deps;
  }

  has(capability: CapabilityName): boolean {
    return this.capabilities.includes(capability);
  }

  /** The context handed to the plugin. */
  context(signal: AbortSignal, events: EventSink, logger: Logger = this.#logger): ProvisionContext {
    return { signal, logger, clock: this.#deps.clock, events, store: this.#deps.store, jobs: this.#deps.jobs };
  }

  /**
   * Run a plugin-local helper (a member outside the contract, on a typed instance the caller
   * holds) with the same time-out, abort, logging and error wrapping as the contract members.
   */
  invoke<T>(op: string, call: CallContext, fn: (ctx: ProvisionContext) => Promise<T>, timeoutMs = 60_000): Promise<T> {
    return this.#call(op, call, '', fn, timeoutMs);
  }

  /**
   * Parse request options with the plugin's schema; no schema means options must be empty.
   * What it returns is stored with the resource and reaches `allocate` after a round trip
   * through the database, so it must be JSON (no Date, Map, undefined in arrays, ...).
   */
  parseOptions(options: Record<string, unknown>): ProvisionerOptions {
    return parseProvisionerOptions(
      this.name,
      this.has('optionsSchema') ? this.#require('optionsSchema') : undefined,
      options,
    );
  }

  async allocate(req: AllocationRequest, call: CallContext): Promise<Allocation> {
    const out = await this.#call('allocate', call, req.resourceId, (ctx) => this.#plugin.allocate(req, ctx));
    const parsed = this.#validate(AllocationSchema, out, 'allocate');
    if (parsed.resourceId !== req.resourceId) {
      throw new SlipwayError('PROVISIONER_INVALID_OUTPUT', `${this.name}.allocate returned another resourceId`);
    }
    return parsed;
  }

  release(allocation: Allocation, call: CallContext): Promise<void> {
    return this.#call('release', call, allocation.resourceId, (ctx) => this.#plugin.release(allocation, ctx));
  }

  async status(allocation: Allocation, call: CallContext): Promise<AllocationStatus> {
    const out = await this.#call('status', call, allocation.resourceId, (ctx) => this.#plugin.status(allocation, ctx));
    return this.#validate(StatusSchema, out, 'status');
  }

  /** The plugin's own price (`quote` capability), checked to be a positive safe integer. */
  async quote(spec: ResourceSpec, options: ProvisionerOptions, call = NO_EVENTS, terms = NO_TERMS): Promise<number> {
    const quote = this.#require('quote');
    const price = await this.#call('quote', call, '', async (ctx) =>
      quote.call(this.#plugin, spec, options, ctx, terms),
    );
    if (!Number.isSafeInteger(price) || price < 1) {
      throw new SlipwayError(
        'PROVISIONER_INVALID_OUTPUT',
        `${this.name}.quote returned ${price}, not a positive integer`,
      );
    }
    return price;
  }

  async start(allocation: Allocation, call: CallContext): Promise<PowerResult> {
    const start = this.#require('start');
    const out = await this.#call('power', call, allocation.resourceId, (ctx) =>
      start.call(this.#plugin, allocation, ctx),
    );
    return this.#validate(PowerResultSchema, out, 'start') ?? {};
  }

  async stop(allocation: Allocation, call: CallContext): Promise<void> {
    const stop = this.#require('stop');
    return this.#call('power', call, allocation.resourceId, (ctx) => stop.call(this.#plugin, allocation, ctx));
  }

  async restart(allocation: Allocation, call: CallContext): Promise<PowerResult> {
    const restart = this.#require('restart');
    const out = await this.#call('power', call, allocation.resourceId, (ctx) =>
      restart.call(this.#plugin, allocation, ctx),
    );
    return this.#validate(PowerResultSchema, out, 'restart') ?? {};
  }

  async reset(allocation: Allocation, mode: 'hard' | 'soft', call: CallContext): Promise<PowerResult> {
    const reset = this.#require('reset');
    const out = await this.#call('power', call, allocation.resourceId, (ctx) =>
      reset.call(this.#plugin, allocation, mode, ctx),
    );
    return this.#validate(PowerResultSchema, out, 'reset') ?? {};
  }

  async reconfigure(allocation: Allocation, change: ReconfigureChange, call: CallContext): Promise<ReconfigureResult> {
    const reconfigure = this.#require('reconfigure');
    const out = await this.#call('reconfigure', call, allocation.resourceId, (ctx) =>
      reconfigure.call(this.#plugin, allocation, change, ctx),
    );
    return this.#validate(ReconfigureSchema, out, 'reconfigure');
  }

  async attach(allocation: Allocation, device: HotplugDevice, call: CallContext): Promise<void> {
    const attach = this.#require('attach');
    return this.#call('hotplug', call, allocation.resourceId, (ctx) =>
      attach.call(this.#plugin, allocation, device, ctx),
    );
  }

  /** Detaches; `pending` when the guest has not acknowledged yet (finished later via `watch`). */
  async detach(allocation: Allocation, deviceId: string, call: CallContext): Promise<DetachResult> {
    const detach = this.#require('detach');
    const out = await this.#call('hotplug', call, allocation.resourceId, (ctx) =>
      detach.call(this.#plugin, allocation, deviceId, ctx),
    );
    return this.#validate(DetachResultSchema, out, 'detach') ?? { state: 'detached' };
  }

  /** The host this replica registers for the plugin, or undefined when it is not host-placed. */
  host(): HostDescriptor | undefined {
    if (!this.has('host')) return undefined;
    return this.#validate(HostDescriptorSchema, this.#require('host'), 'host');
  }

  /**
   * Start the plugin's watcher (once per replica). `report` is how it tells the core about
   * changes; the handle stops it. A watcher that fails to start is an error of the plugin.
   */
  async watch(report: WatchContext['report'], signal: AbortSignal): Promise<WatchHandle> {
    const watch = this.#require('watch');
    const base = this.context(signal, NO_EVENTS.events);
    const ctx: WatchContext = {
      signal,
      logger: base.logger.child({ op: 'watch' }),
      clock: base.clock,
      store: base.store,
      jobs: base.jobs,
      report,
    };
    try {
      return await watch.call(this.#plugin, ctx);
    } catch (error) {
      throw wrapError(error, `${this.name}.watch`);
    }
  }

  async refresh(call: CallContext): Promise<PoolRefreshResult> {
    const refresh = this.#require('refresh');
    const out = await this.#call('refresh', call, '', (ctx) => refresh.call(this.#plugin, ctx));
    return this.#validate(RefreshSchema, out, 'refresh');
  }

  /**
   * What the plugin offers by name (`catalog` capability), checked against the contract. Kept
   * for `CATALOG_TTL_MS`: every launch form asks, and a plugin may ask its provider.
   */
  async catalog(call: CallContext): Promise<Catalog> {
    const catalog = this.#require('catalog');
    return this.#catalog.get(async () => {
      const out = await this.#call('catalog', call, '', async (ctx) => catalog.call(this.#plugin, ctx));
      return this.#validate(CatalogSchema, out, 'catalog');
    });
  }

  async inventory(call: CallContext): Promise<InventoryItem[]> {
    const inventory = this.#require('inventory');
    const out = await this.#call('inventory', call, '', (ctx) => inventory.call(this.#plugin, ctx));
    return this.#validate(InventorySchema, out, 'inventory');
  }

  /** Run the plugin's `jobHandlers[kind]` (a job it enqueued through `ctx.jobs`). */
  async runJob(kind: string, payload: Record<string, unknown>, call: CallContext): Promise<void> {
    const handler = this.#require('jobHandlers')[kind];
    if (typeof handler !== 'function') throw this.#notSupported(`jobHandlers.${kind}`);
    return this.#call('job', call, '', (ctx) => handler(payload, ctx), this.#timeouts.job, `job:${kind}`);
  }

  /** The capability member, or NOT_SUPPORTED when the plugin lacks it. */
  #require<K extends CapabilityName>(name: K): NonNullable<Provisioner[K]> {
    let member: Provisioner[K];
    try {
      member = this.#plugin[name]; // a getter may throw: that is the plugin failing, typed as such
    } catch (error) {
      throw wrapError(error, `${this.name}.${name}`);
    }
    if (!this.has(name) || member === undefined || member === null) throw this.#notSupported(name);
    return member;
  }

  #notSupported(capability: string): SlipwayError {
    return new SlipwayError('NOT_SUPPORTED', `provisioner ${this.name} does not support ${capability}`, {
      details: { provisioner: this.name, capability },
    });
  }

  async #call<T>(
    op: string,
    call: CallContext,
    resourceId: string,
    fn: (ctx: ProvisionContext) => Promise<T>,
    timeoutMs = this.#timeouts[op as RuntimeOperation] ?? 60_000,
    label = op,
  ): Promise<T> {
    const logger = this.#logger.child({ op: label, resourceId });
    const started = performance.now();
    try {
      const result = await runAbortable((signal) => fn(this.context(signal, call.events, logger)), {
        timeoutMs,
        signal: call.signal,
        what: `${this.name}.${label}`,
      });
      logger.debug('provisioner call ok', { ms: Math.round(performance.now() - started) });
      return result;
    } catch (error) {
      logger.warn('provisioner call failed', {
        ms: Math.round(performance.now() - started),
        error: errorMessage(error),
      });
      throw wrapError(error, `${this.name}.${label}`);
    }
  }

  #validate<S extends z.ZodType>(schema: S, value: unknown, op: string): z.output<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new SlipwayError(
        'PROVISIONER_INVALID_OUTPUT',
        `${this.name}.${op} returned an invalid value: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
      );
    }
    return parsed.data;
  }
}

/** How long a plugin's catalog answer is kept. */
export const CATALOG_TTL_MS = 60_000;

const NO_EVENTS: CallContext = { events: { emit: () => {} } };
const NO_TERMS: QuoteTerms = { ttlSeconds: null };
