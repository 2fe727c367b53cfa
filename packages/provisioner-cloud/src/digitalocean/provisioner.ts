/**
 * `digitalOceanProvisioner(config)`: Slipway's provisioner for DigitalOcean droplets.
 *
 * Every droplet carries three tags (see tags.ts): the installation's base tag (inventory), the
 * resource's tag (how a retry, a crash recovery or a release without the id finds it) and the
 * request's tag. Every API call goes through one ProviderPolicy; every failure reaches the core
 * as a typed SlipwayError with a safe message (the provider's text goes to ctx.logger only).
 */
import {
  type AllocationStatus,
  defineProvisioner,
  type InventoryItem,
  type ProvisionContext,
  type Provisioner,
  SlipwayError,
  type With,
} from '@slipway/core';
import { ProviderPolicy } from '../shared/provider-policy.js';
import { allocateDroplet, singleFlight } from './allocate.js';
import { digitalOceanCatalog } from './catalog.js';
import { DigitalOceanClient, type Droplet, PROVIDER, publicIpv4 } from './client.js';
import {
  chooseSize,
  type DigitalOceanConfigInput,
  type DigitalOceanOptions,
  digitalOceanOptionsSchema,
  parseDigitalOceanConfig,
} from './config.js';
import { callOptions, type DropletOps, dropletsToRelease, findDroplets, surfaced } from './droplet-ops.js';
import { resetDroplet, restartDroplet, startDroplet, stopDroplet } from './power.js';
import { dropletTags } from './tags.js';

export interface DigitalOceanDeps {
  /** The fetch every API call uses (default: the global one). Tests inject the fake's. */
  readonly fetch?: typeof fetch;
}

/** The provisioner with the capability members it always has. */
export type DigitalOceanProvisioner = Provisioner<DigitalOceanOptions> &
  With<
    'optionsSchema' | 'quote' | 'start' | 'stop' | 'restart' | 'reset' | 'inventory' | 'catalog',
    DigitalOceanOptions
  >;

export function digitalOceanProvisioner(
  input: DigitalOceanConfigInput,
  deps: DigitalOceanDeps = {},
): DigitalOceanProvisioner {
  const config = parseDigitalOceanConfig(input);
  const policy = new ProviderPolicy(PROVIDER, config.policy, [config.token]);
  const client = new DigitalOceanClient({
    token: config.token,
    baseUrl: config.baseUrl,
    policy,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const ops: DropletOps = { client, config, tags: dropletTags(config.tagPrefix) };
  const oneAllocatePerResource = singleFlight();

  return defineProvisioner<DigitalOceanOptions, DigitalOceanProvisioner>({
    name: PROVIDER,
    isDemo: false,
    optionsSchema: digitalOceanOptionsSchema(config),
    catalog: () => digitalOceanCatalog(config),

    allocate: (req, ctx) =>
      surfaced('create droplet', ctx, () =>
        oneAllocatePerResource(req.resourceId, ctx, () => allocateDroplet(ops, req, ctx)),
      ),

    /**
     * Delete the droplet its id names and every droplet with the resource's tag (a duplicate
     * left by a race carries it too). 404 = already gone. A 422 "pending event" (an action still running) is a
     * retryable error: the core retries releases until they succeed.
     */
    release: (allocation, ctx) =>
      surfaced('delete droplet', ctx, async () => {
        for (const droplet of await dropletsToRelease(ops, allocation, ctx)) {
          const outcome = await client.deleteDroplet(droplet.id, callOptions(ctx));
          if (outcome === 'deleted') {
            ctx.events.emit({ action: 'digitalocean.droplet_deleted', data: { dropletId: droplet.id } });
          }
        }
      }),

    status: (allocation, ctx) =>
      surfaced('read droplet', ctx, async () => {
        // By tag, an archived droplet sorted first must not hide a live one.
        const found = await findDroplets(ops, allocation, ctx);
        const droplet = found.find((d) => d.status !== 'archive') ?? found[0];
        return droplet ? statusOf(droplet) : { state: 'gone' };
      }),

    start: (allocation, ctx) => surfaced('power on droplet', ctx, () => startDroplet(ops, allocation, ctx)),
    stop: (allocation, ctx) => surfaced('stop droplet', ctx, () => stopDroplet(ops, allocation, ctx)),
    restart: (allocation, ctx) => surfaced('reboot droplet', ctx, () => restartDroplet(ops, allocation, ctx)),
    reset: (allocation, mode, ctx) => surfaced('reset droplet', ctx, () => resetDroplet(ops, allocation, mode, ctx)),

    /** Every droplet with the installation's base tag, with the ids its tags name. */
    inventory: (ctx: ProvisionContext) =>
      surfaced('list droplets', ctx, async (): Promise<InventoryItem[]> => {
        const droplets = await client.listDroplets(ops.tags.base, callOptions(ctx));
        return droplets.map((d) => ({ externalId: String(d.id), ...ops.tags.parse(d.tags) }));
      }),

    /**
     * DigitalOcean bills droplets by the hour, so the price is the chosen size's credits per
     * hour times the hours asked for, every started hour counted, one hour at least. A lease
     * without an expiry has no price: it is refused with VALIDATION_FAILED on `ttlSeconds`.
     */
    quote(spec, options, _ctx, terms) {
      if (terms.ttlSeconds === null) {
        throw new SlipwayError(
          'VALIDATION_FAILED',
          'ttlSeconds: the digitalocean provisioner prices by the hour, so a resource needs an expiry (ttlSeconds)',
          { details: { field: 'ttlSeconds', provider: PROVIDER } },
        );
      }
      const hours = Math.max(1, Math.ceil(terms.ttlSeconds / 3600));
      return chooseSize(config, spec, options).creditsPerHour * hours;
    },
  });
}

/** new → provisioning, active → running, off → stopped, archive → gone. */
function statusOf(droplet: Droplet): AllocationStatus {
  switch (droplet.status) {
    case 'new':
      return { state: 'provisioning' };
    case 'active':
      return { state: 'running', ip: publicIpv4(droplet), sshPort: 22 };
    case 'off':
      return { state: 'stopped', ip: publicIpv4(droplet), sshPort: 22 };
    default:
      return { state: 'gone' };
  }
}
