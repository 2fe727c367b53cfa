/**
 * Allocate a droplet without ever building two for one resource:
 *
 * 1. Look the resource up by its tag first: a retry after a crash or a time-out reuses what
 *    the first attempt built.
 * 2. POST the create. The policy repeats it only after a 429 (not processed). After a 5xx, a
 *    time-out, a dropped connection or a body that is not JSON the outcome is unknown, so the
 *    droplet is looked up by tag again before another create is sent.
 * 3. Poll until the droplet is `active`, within the configured deadline and the caller's signal.
 *
 * Two calls for the same resource in one process share one attempt (the tag lookup cannot see
 * a create still in flight). Across processes (two replicas, or a create DigitalOcean processed
 * after our time-out) two droplets can still be built: once ours is up, every caller keeps the
 * lowest id among the resource's droplets and deletes the others (4.).
 */
import {
  type Allocation,
  type AllocationRequest,
  cloudInitUserData,
  type ProvisionContext,
  SlipwayError,
} from '@slipway/core';
import { isProviderError } from '../shared/provider-error.js';
import { type Droplet, PROVIDER, publicIpv4 } from './client.js';
import { type DigitalOceanOptions, placement } from './config.js';
import { callOptions, type DropletOps, findDroplets, waitForDroplet } from './droplet-ops.js';

/** Creates sent per allocate when earlier ones ended with an unknown outcome. */
const CREATE_ATTEMPTS = 3;

export async function allocateDroplet(
  ops: DropletOps,
  req: AllocationRequest<DigitalOceanOptions>,
  ctx: ProvisionContext,
): Promise<Allocation> {
  ctx.signal.throwIfAborted();
  const target = placement(ops.config, req.spec, req.options);
  let droplet = await existing(ops, req, ctx);
  for (let attempt = 1; !droplet; attempt++) {
    try {
      droplet = await ops.client.createDroplet(
        {
          name: `slipway-${req.resourceId}`,
          region: target.region,
          size: target.size.slug,
          image: target.image,
          tags: [ops.tags.base, ops.tags.resource(req.resourceId), ops.tags.request(req.requestId)],
          // Keys go in through cloud-init (user_data), not as account key ids; the rest are the API's defaults.
          ssh_keys: [],
          backups: false,
          ipv6: false,
          monitoring: false,
          private_networking: false,
          public_networking: true,
          volumes: [],
          user_data: cloudInitUserData({
            hostname: `slipway-${req.resourceId}`,
            sshKeys: req.options.sshKeys ?? [],
            ...(req.options.userData ? { userData: req.options.userData } : {}),
          }),
        },
        callOptions(ctx),
      );
      ctx.events.emit({
        action: 'digitalocean.droplet_created',
        data: { dropletId: droplet.id, region: target.region, size: target.size.slug },
      });
    } catch (error) {
      const unknownOutcome = isProviderError(error) && (error.kind === 'server' || error.kind === 'network');
      if (!unknownOutcome || attempt >= CREATE_ATTEMPTS || ctx.signal.aborted) throw error;
      ctx.logger.warn('DigitalOcean create: outcome unknown; looking the droplet up by tag before creating again', {
        resourceId: req.resourceId,
        attempt,
        kind: error.kind,
        providerMessage: error.providerMessage,
      });
      droplet = await existing(ops, req, ctx);
    }
  }
  return toAllocation(req.resourceId, await settle(ops, req, droplet, ctx));
}

/**
 * Wait until the droplet is up, then converge on the resource's oldest droplet. When ours
 * disappears meanwhile (another replica kept an older one and deleted it), adopt that one.
 */
async function settle(
  ops: DropletOps,
  req: AllocationRequest<DigitalOceanOptions>,
  first: Droplet,
  ctx: ProvisionContext,
): Promise<Droplet> {
  let droplet = first;
  for (let hop = 0; ; hop++) {
    let up: Droplet;
    try {
      up = await untilUp(ops, droplet, ctx);
    } catch (error) {
      const other = hop < 3 && disappeared(error) ? await existing(ops, req, ctx) : undefined;
      if (!other) throw error;
      droplet = other;
      continue;
    }
    const keep = await converge(ops, req, up, ctx);
    if (keep.id === up.id) return up;
    droplet = keep;
  }
}

const disappeared = (error: unknown) => error instanceof SlipwayError && error.details.reason === 'disappeared';

async function untilUp(ops: DropletOps, droplet: Droplet, ctx: ProvisionContext): Promise<Droplet> {
  const { droplet: now, reached } = await waitForDroplet(
    ops,
    droplet,
    // `off` only when a retry finds a droplet someone stopped meanwhile: it is reported as stopped.
    (d) => d.status === 'active' || d.status === 'off',
    ops.config.deadlines.activeMs,
    ctx,
  );
  if (reached) return now;
  throw new SlipwayError(
    'PROVISIONER_TIMEOUT',
    `DigitalOcean droplet ${now.id} was not active within ${Math.round(ops.config.deadlines.activeMs / 1000)} s`,
    { details: { provider: PROVIDER, dropletId: now.id, status: now.status } },
  );
}

/**
 * The droplet to keep: the resource's lowest id (every replica picks the same one). The others
 * are deleted; a failed delete is logged, not the allocation's failure (release deletes by tag).
 */
async function converge(
  ops: DropletOps,
  req: AllocationRequest<DigitalOceanOptions>,
  ours: Droplet,
  ctx: ProvisionContext,
): Promise<Droplet> {
  const tagged = (await findDroplets(ops, { resourceId: req.resourceId, externalId: '' }, ctx)).filter(
    (d) => d.status !== 'archive',
  );
  const keep = tagged[0] && tagged[0].id < ours.id ? tagged[0] : ours;
  const others = [ours, ...tagged].filter((d, i, all) => d.id !== keep.id && all.findIndex((x) => x.id === d.id) === i);
  for (const d of others) {
    ctx.logger.warn('DigitalOcean: another droplet was built for this resource; keeping the oldest', {
      resourceId: req.resourceId,
      keptId: keep.id,
      dropletId: d.id,
    });
    await ops.client.deleteDroplet(d.id, callOptions(ctx)).catch((error: unknown) => {
      if (ctx.signal.aborted) throw error;
      ctx.logger.warn('DigitalOcean: deleting the extra droplet failed; the release will', { dropletId: d.id });
    });
  }
  return keep;
}

/** The resource's droplet if one exists; extra ones (which should never exist) are deleted. */
async function existing(
  ops: DropletOps,
  req: AllocationRequest<DigitalOceanOptions>,
  ctx: ProvisionContext,
): Promise<Droplet | undefined> {
  const [keep, ...extra] = (await findDroplets(ops, { resourceId: req.resourceId, externalId: '' }, ctx)).filter(
    (d) => d.status !== 'archive',
  );
  for (const d of extra) {
    ctx.logger.warn('DigitalOcean: a second droplet carries the resource tag; deleting it', {
      resourceId: req.resourceId,
      dropletId: d.id,
    });
    await ops.client.deleteDroplet(d.id, callOptions(ctx));
  }
  return keep;
}

export const toAllocation = (resourceId: string, droplet: Droplet): Allocation => ({
  resourceId,
  externalId: String(droplet.id),
  ip: publicIpv4(droplet),
  sshPort: 22,
  state: droplet.status === 'off' ? 'stopped' : 'running',
  data: { region: droplet.region.slug, size: droplet.size_slug },
});

/**
 * One allocate per resource at a time in this process: a second call waits for the first
 * and gets its result. If the first was aborted by its own caller, the second tries itself.
 */
export function singleFlight() {
  const inflight = new Map<string, { promise: Promise<Allocation>; signal: AbortSignal }>();
  return async function run(key: string, ctx: ProvisionContext, fn: () => Promise<Allocation>): Promise<Allocation> {
    for (;;) {
      const current = inflight.get(key);
      if (!current) break;
      try {
        return await abortable(current.promise, ctx.signal);
      } catch (error) {
        if (ctx.signal.aborted || !current.signal.aborted) throw error;
        if (inflight.get(key) === current) inflight.delete(key);
      }
    }
    const promise = fn();
    const entry = { promise, signal: ctx.signal };
    inflight.set(key, entry);
    try {
      return await promise;
    } finally {
      if (inflight.get(key) === entry) inflight.delete(key);
    }
  };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
