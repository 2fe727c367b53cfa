/**
 * The only way the core calls a plugin. Adds a time-out and AbortSignal to every call,
 * validates what the plugin returns against the contract, wraps its errors with `cause`,
 * and logs each call. Plugins stay simple; the core stays safe from them.
 */
import { z } from 'zod';
import { ALLOCATION_STATES } from '../domain.js';
import { isSlipwayError, SlipwayError } from '../errors.js';
import { runAbortable } from '../util/abort.js';
import { CAPABILITIES, type CapabilityName, capabilitiesOf } from './capabilities.js';
import type {
  Allocation,
  AllocationRequest,
  AllocationStatus,
  Clock,
  EventSink,
  Logger,
  ProvisionContext,
  Provisioner,
} from './provisioner.js';
import type { JobQueue, ProvisionerStore } from './provisioner-store.js';

export interface RuntimeOptions {
  /** Per-call time-outs in ms. Defaults: allocate 10 min, release 5 min, status 30 s. */
  timeouts?: Partial<Record<'allocate' | 'release' | 'status', number>>;
}

export interface CallContext {
  signal?: AbortSignal;
  events: EventSink;
}

/** What the runtime needs to build a ProvisionContext for its plugin. */
export interface RuntimeDeps {
  logger: Logger;
  clock: Clock;
  /** This provisioner's namespaced store. */
  store: ProvisionerStore;
  /** This provisioner's job queue (kinds resolve to its `jobHandlers`). */
  jobs: JobQueue;
}

const AllocationSchema = z.object({
  resourceId: z.string().min(1),
  externalId: z.string().min(1),
  ip: z.string().nullish(),
  sshPort: z.number().int().min(1).max(65535).nullish(),
  cockpitUrl: z.url().nullish(),
  state: z.enum(ALLOCATION_STATES).optional(),
  cost: z.number().int().min(0).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

const StatusSchema = z.object({
  state: z.enum(ALLOCATION_STATES),
  ip: z.string().nullish(),
  sshPort: z.number().int().min(1).max(65535).nullish(),
  cockpitUrl: z.url().nullish(),
  message: z.string().optional(),
});

const DEFAULT_TIMEOUTS = { allocate: 600_000, release: 300_000, status: 30_000 };

export class RuntimeProvisioner {
  readonly name: string;
  readonly isDemo: boolean;
  readonly capabilities: readonly CapabilityName[];
  readonly #plugin: Provisioner;
  readonly #timeouts: typeof DEFAULT_TIMEOUTS;
  readonly #logger: Logger;
  readonly #deps: RuntimeDeps;

  constructor(plugin: Provisioner, deps: RuntimeDeps, options: RuntimeOptions = {}) {
    this.#plugin = plugin;
    this.name = plugin.name;
    this.isDemo = plugin.isDemo;
    this.capabilities = capabilitiesOf(plugin);
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#logger = deps.logger.child({ provisioner: plugin.name });
    this.#deps = deps;
  }

  /** The context handed to the plugin, for capability calls (refresh, job handlers, ...). */
  context(signal: AbortSignal, events: EventSink, logger: Logger = this.#logger): ProvisionContext {
    return { signal, logger, clock: this.#deps.clock, events, store: this.#deps.store, jobs: this.#deps.jobs };
  }

  /**
   * Run any plugin call (a capability method) with the same time-out, abort and error
   * wrapping as the contract members.
   */
  invoke<T>(op: string, ctx: CallContext, fn: (pctx: ProvisionContext) => Promise<T>, timeoutMs = 60_000): Promise<T> {
    return this.#call(op, ctx, '', fn, timeoutMs);
  }

  /** The wrapped plugin, for capability calls the core makes through `has()`. */
  get plugin(): Provisioner {
    return this.#plugin;
  }

  has(capability: CapabilityName): boolean {
    return this.capabilities.includes(capability);
  }

  /** Parse request options with the plugin's schema; no schema means options must be empty. */
  parseOptions(options: Record<string, unknown>): Record<string, unknown> {
    const plugin = this.#plugin;
    if (CAPABILITIES.validatesOptions(plugin)) {
      const parsed = plugin.optionsSchema.safeParse(options);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = ['options', ...(issue?.path ?? [])].join('.');
        throw new SlipwayError('VALIDATION_FAILED', `${field}: ${issue?.message ?? 'invalid'}`, {
          details: { field },
        });
      }
      return parsed.data;
    }
    if (Object.keys(options).length > 0) {
      throw new SlipwayError('VALIDATION_FAILED', `options: provisioner ${this.name} takes no options`, {
        details: { field: 'options' },
      });
    }
    return {};
  }

  async allocate(req: AllocationRequest, ctx: CallContext): Promise<Allocation> {
    const out = await this.#call('allocate', ctx, req.resourceId, (pctx) => this.#plugin.allocate(req, pctx));
    const parsed = this.#validate(AllocationSchema, out, 'allocate');
    if (parsed.resourceId !== req.resourceId) {
      throw new SlipwayError('PROVISIONER_INVALID_OUTPUT', `${this.name}.allocate returned another resourceId`);
    }
    return parsed;
  }

  release(allocation: Allocation, ctx: CallContext): Promise<void> {
    return this.#call('release', ctx, allocation.resourceId, (pctx) => this.#plugin.release(allocation, pctx));
  }

  async status(allocation: Allocation, ctx: CallContext): Promise<AllocationStatus> {
    const out = await this.#call('status', ctx, allocation.resourceId, (pctx) => this.#plugin.status(allocation, pctx));
    return this.#validate(StatusSchema, out, 'status');
  }

  async #call<T>(
    op: string,
    ctx: CallContext,
    resourceId: string,
    fn: (pctx: ProvisionContext) => Promise<T>,
    timeoutMs = this.#timeouts[op as keyof typeof DEFAULT_TIMEOUTS] ?? 60_000,
  ): Promise<T> {
    const logger = this.#logger.child({ op, resourceId });
    const started = performance.now();
    try {
      const result = await runAbortable((signal) => fn(this.context(signal, ctx.events, logger)), {
        timeoutMs,
        signal: ctx.signal,
        what: `${this.name}.${op}`,
      });
      logger.debug('provisioner call ok', { ms: Math.round(performance.now() - started) });
      return result;
    } catch (error) {
      logger.warn('provisioner call failed', {
        ms: Math.round(performance.now() - started),
        error: error instanceof Error ? error.message : String(error),
      });
      throw wrapError(error, `${this.name}.${op}`);
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

/** Keep our own typed errors (time-out, abort, or a plugin's SlipwayError); wrap the rest. */
function wrapError(error: unknown, what: string): SlipwayError {
  if (isSlipwayError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SlipwayError('PROVISIONER_FAILED', `${what} failed: ${message}`, { cause: error });
}
