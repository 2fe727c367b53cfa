/**
 * The RunPod provisioner: GPU pods rented through RunPod's GraphQL API. Pods are found by
 * name (`slipway-<resourceId>`), so every member works with an empty external id, and
 * nothing is ever created twice for one resource.
 */
import {
  type Allocation,
  defineProvisioner,
  type HasCatalog,
  type Inventory,
  type InventoryItem,
  type PowerControl,
  type PriceQuote,
  type ProvisionContext,
  type Provisioner,
  SlipwayError,
  type ValidatesOptions,
} from '@slipway/core';
import { isProviderError, redact, toSlipwayError } from '../shared/provider-error.js';
import { ProviderPolicy } from '../shared/provider-policy.js';
import { runpodCatalog } from './catalog.js';
import { PROVIDER, RunpodClient } from './client.js';
import {
  parseRunpodConfig,
  planPod,
  podName,
  RATE_SCALE,
  type RunpodConfigInput,
  type RunpodOptions,
  runpodOptionsSchema,
} from './config.js';
import { allocatePod } from './pod-allocate.js';
import { envValue, PodApi, type PodCall, type PodView, podState, sshEndpoint } from './pods.js';

export interface RunpodDeps {
  /** The HTTP client; default the global fetch. */
  readonly fetch?: typeof fetch;
}

export type RunpodProvisioner = Provisioner<RunpodOptions> &
  ValidatesOptions<RunpodOptions> &
  PriceQuote<RunpodOptions> &
  Omit<PowerControl, 'reset'> &
  Inventory &
  HasCatalog & {
    /** Resources it builds are pods. */
    readonly kind: 'pod';
  };

export function runpodProvisioner(input: RunpodConfigInput, deps: RunpodDeps = {}): RunpodProvisioner {
  const config = parseRunpodConfig(input);
  const policy = new ProviderPolicy(PROVIDER, config.policy, [config.apiKey]);
  const api = new PodApi(
    new RunpodClient({
      apiKey: config.apiKey,
      baseUrl: config.baseUrl,
      policy,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    }),
  );
  const secrets = [config.apiKey];
  const locks = new KeyedLock();

  /** Run a member; provider failures reach the core as typed, safe errors (their text goes to the log). */
  async function guarded<T>(what: string, ctx: ProvisionContext, fn: (call: PodCall) => Promise<T>): Promise<T> {
    try {
      return await fn({ signal: ctx.signal, logger: ctx.logger });
    } catch (error) {
      if (isProviderError(error)) {
        ctx.logger.warn(`${PROVIDER} ${what} failed`, {
          kind: error.kind,
          providerMessage: redact(error.providerMessage, secrets),
          ...(error.details.status ? { status: error.details.status } : {}),
        });
      }
      throw toSlipwayError(error, PROVIDER, what);
    }
  }

  /**
   * The pod of an allocation: by id, else by the resource's name. An id RunPod no longer knows
   * (a duplicate kept instead of it, a stale record) is not proof the resource is gone while a
   * pod with its name lives: "gone" needs both look-ups to miss.
   */
  async function findPod(allocation: Allocation, call: PodCall): Promise<PodView | null> {
    if (allocation.externalId) {
      const pod = await api.get(allocation.externalId, call);
      if (pod && podState(pod) !== 'gone') return pod;
    }
    return (await api.findByName(podName(allocation.resourceId, config.namePrefix), call))[0] ?? null;
  }

  async function requirePod(allocation: Allocation, call: PodCall): Promise<PodView> {
    const pod = await findPod(allocation, call);
    if (!pod || podState(pod) === 'gone') {
      throw new SlipwayError('NOT_FOUND', `${PROVIDER} pod of resource ${allocation.resourceId} not found`, {
        details: { id: allocation.resourceId, provider: PROVIDER },
      });
    }
    return pod;
  }

  async function resume(allocation: Allocation, pod: PodView, call: PodCall): Promise<void> {
    const data = allocation.data ?? {};
    const gpuCount = typeof data.gpuCount === 'number' ? data.gpuCount : (pod.gpuCount ?? 1);
    const interruptible = data.interruptible === true || pod.podType === 'INTERRUPTABLE';
    const bid = typeof data.bidPerGpu === 'number' ? data.bidPerGpu : (pod.costPerHr ?? 0) / Math.max(1, gpuCount);
    await api.resume(pod.id, gpuCount, interruptible ? bid : undefined, call);
  }

  return defineProvisioner<RunpodOptions, RunpodProvisioner>({
    name: PROVIDER,
    isDemo: false,
    kind: 'pod',
    optionsSchema: runpodOptionsSchema(config),
    catalog: () => runpodCatalog(config),

    allocate: (req, ctx) =>
      locks.run(req.resourceId, () => guarded('create pod', ctx, () => allocatePod(api, config, req, ctx))),

    release: (allocation, ctx) =>
      guarded('delete pod', ctx, async (call) => {
        // Also every pod with the resource's name: a create that completed at RunPod after its
        // client gave up (and after the look-up) would otherwise outlive the resource.
        const named = (await api.findByName(podName(allocation.resourceId, config.namePrefix), call)).map((p) => p.id);
        const ids = new Set([...(allocation.externalId ? [allocation.externalId] : []), ...named]);
        for (const id of ids) await api.terminate(id, call);
      }),

    status: (allocation, ctx) =>
      guarded('read pod', ctx, async (call) => {
        const pod = await findPod(allocation, call);
        const ssh = pod ? sshEndpoint(pod) : undefined;
        return { state: podState(pod), ...(ssh ? { ip: ssh.ip, sshPort: ssh.port } : {}) };
      }),

    stop: (allocation, ctx) =>
      guarded('stop pod', ctx, async (call) => {
        await api.stop((await requirePod(allocation, call)).id, call);
      }),

    start: (allocation, ctx) =>
      guarded('start pod', ctx, async (call) => {
        const pod = await requirePod(allocation, call);
        if (pod.desiredStatus !== 'RUNNING') await resume(allocation, pod, call);
      }),

    restart: (allocation, ctx) =>
      guarded('restart pod', ctx, async (call) => {
        const pod = await requirePod(allocation, call);
        if (pod.desiredStatus === 'RUNNING') await api.stop(pod.id, call);
        await resume(allocation, pod, call);
      }),

    inventory: (ctx) =>
      guarded('list pods', ctx, async (call) =>
        (await api.list(call)).flatMap((p): InventoryItem[] => {
          if (!p.name?.startsWith(config.namePrefix)) return [];
          const resourceId = envValue(p, 'SLIPWAY_RESOURCE_ID');
          // `slipway-staging-<id>` starts with `slipway-` too: a pod that says its resource is ours
          // only when its name is exactly our prefix + that resource, or another installation's
          // pods would be listed here, and reaped as orphans.
          if (resourceId !== undefined && p.name !== podName(resourceId, config.namePrefix)) return [];
          const requestId = envValue(p, 'SLIPWAY_REQUEST_ID');
          return [
            {
              externalId: p.id,
              resourceId: resourceId ?? p.name.slice(config.namePrefix.length),
              ...(requestId ? { requestId } : {}),
            },
          ];
        }),
      ),

    quote: (_spec, options, _ctx, terms) => {
      if (terms.ttlSeconds === null) {
        throw new SlipwayError(
          'VALIDATION_FAILED',
          `ttlSeconds: ${PROVIDER} prices pods by the hour, so a pod needs an expiry (ttl)`,
          { details: { field: 'ttlSeconds' } },
        );
      }
      const plan = planPod(config, options);
      const hours = Math.max(1, Math.ceil(terms.ttlSeconds / 3600));
      // Rates have at most 4 decimals (config): counted in ten-thousandths, float error cannot add a credit
      // (0.1 × 3 × 10 h is 3.0000000000000004 in floats). The rate's bound keeps this a safe integer.
      const units = Math.round(plan.gpu.creditsPerHour * RATE_SCALE) * plan.gpuCount * hours;
      return Math.ceil(units / RATE_SCALE);
    },
  });
}

/** One allocate per resource at a time in this process: a concurrent duplicate waits, then finds the pod by name. */
class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(fn);
    const tail = current.catch(() => undefined);
    this.#tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
