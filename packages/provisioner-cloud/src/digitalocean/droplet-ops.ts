/**
 * What the provisioner's members share: finding a resource's droplet (by id, or by its tag
 * when the core does not know the id), waiting on droplets and actions with a deadline that
 * also honours the caller's signal, and turning failures into the typed errors users see.
 */
import { type ProvisionContext, SlipwayError, sleep } from '@slipway/core';
import { isProviderError, toSlipwayError } from '../shared/provider-error.js';
import {
  type CallOptions,
  type DigitalOceanClient,
  type Droplet,
  type DropletAction,
  isPendingEvent,
  PROVIDER,
} from './client.js';
import type { DigitalOceanConfig } from './config.js';
import type { DropletTags } from './tags.js';

export interface DropletOps {
  readonly client: DigitalOceanClient;
  readonly config: DigitalOceanConfig;
  readonly tags: DropletTags;
}

export const callOptions = (ctx: ProvisionContext): CallOptions => ({ signal: ctx.signal, logger: ctx.logger });

/** A droplet id from an external id, or null for anything that is not one (`''`, `unknown-...`). */
export function dropletId(externalId: string): number | null {
  const id = Number(externalId);
  return /^[1-9][0-9]*$/.test(externalId) && Number.isSafeInteger(id) ? id : null;
}

/** The resource's droplets: the one its external id names, else every droplet with its resource tag. */
export async function findDroplets(
  ops: DropletOps,
  allocation: { resourceId: string; externalId: string },
  ctx: ProvisionContext,
): Promise<Droplet[]> {
  const id = dropletId(allocation.externalId);
  if (id !== null) {
    const droplet = await ops.client.getDroplet(id, callOptions(ctx));
    return droplet ? [droplet] : [];
  }
  const tagged = await ops.client.listDroplets(ops.tags.resource(allocation.resourceId), callOptions(ctx));
  return tagged.sort((a, b) => a.id - b.id);
}

/**
 * Every droplet a release must delete: the one the external id names and every droplet with the
 * resource's tag. A duplicate (two replicas' creates, a create processed after its time-out) is
 * tagged like the recorded droplet, and the reaper counts it as backed while the resource lives:
 * only a release by tag ever deletes it.
 */
export async function dropletsToRelease(
  ops: DropletOps,
  allocation: { resourceId: string; externalId: string },
  ctx: ProvisionContext,
): Promise<Droplet[]> {
  const found = await findDroplets(ops, allocation, ctx);
  if (dropletId(allocation.externalId) === null || !allocation.resourceId) return found;
  const tagged = await findDroplets(ops, { resourceId: allocation.resourceId, externalId: '' }, ctx);
  return [...found, ...tagged.filter((t) => !found.some((f) => f.id === t.id))];
}

/** The resource's droplet, or NOT_FOUND (for power operations on a machine that is gone). */
export async function requireDroplet(
  ops: DropletOps,
  allocation: { resourceId: string; externalId: string },
  ctx: ProvisionContext,
): Promise<Droplet> {
  const droplet = (await findDroplets(ops, allocation, ctx)).find((d) => d.status !== 'archive');
  if (droplet) return droplet;
  throw new SlipwayError('NOT_FOUND', `droplet of resource ${allocation.resourceId} not found at DigitalOcean`, {
    details: { provider: PROVIDER, id: allocation.externalId || allocation.resourceId },
  });
}

/**
 * Poll the droplet until `done` holds; false after `deadlineMs` (a deadline the caller decides
 * how to answer). A droplet that disappears meanwhile is PROVISIONER_FAILED.
 */
export async function waitForDroplet(
  ops: DropletOps,
  first: Droplet,
  done: (d: Droplet) => boolean,
  deadlineMs: number,
  ctx: ProvisionContext,
): Promise<{ droplet: Droplet; reached: boolean }> {
  const until = Date.now() + deadlineMs;
  let droplet = first;
  while (!done(droplet)) {
    if (Date.now() >= until) return { droplet, reached: false };
    await sleep(Math.min(ops.config.deadlines.pollIntervalMs, Math.max(1, until - Date.now())), ctx.signal);
    const now = await ops.client.getDroplet(droplet.id, callOptions(ctx));
    if (!now) {
      throw new SlipwayError('PROVISIONER_FAILED', `droplet ${droplet.id} disappeared at DigitalOcean`, {
        details: { provider: PROVIDER, dropletId: droplet.id, reason: 'disappeared' },
      });
    }
    droplet = now;
  }
  return { droplet, reached: true };
}

/** Poll an action until it completes; errored → PROVISIONER_FAILED, past the deadline → PROVISIONER_TIMEOUT. */
export async function waitForAction(ops: DropletOps, first: DropletAction, ctx: ProvisionContext): Promise<void> {
  const until = Date.now() + ops.config.deadlines.actionMs;
  let action = first;
  for (;;) {
    if (action.status === 'completed') return;
    if (action.status === 'errored') {
      throw new SlipwayError('PROVISIONER_FAILED', `DigitalOcean droplet action ${action.type ?? ''} failed`, {
        details: { provider: PROVIDER, actionId: action.id, actionType: action.type },
      });
    }
    if (Date.now() >= until || action.id === undefined) {
      throw new SlipwayError(
        'PROVISIONER_TIMEOUT',
        `DigitalOcean droplet action ${action.type ?? ''} did not complete`,
        {
          details: { provider: PROVIDER, actionId: action.id, deadlineMs: ops.config.deadlines.actionMs },
        },
      );
    }
    await sleep(Math.min(ops.config.deadlines.pollIntervalMs, Math.max(1, until - Date.now())), ctx.signal);
    action = await ops.client.getAction(action.id, callOptions(ctx));
  }
}

/** DigitalOcean refused because an action is still running on the droplet: worth a retry later. */
export const pendingEventError = (what: string): SlipwayError =>
  new SlipwayError(
    'PROVISIONER_FAILED',
    `DigitalOcean droplet has an action in progress (${what}); it will be retried`,
    { details: { provider: PROVIDER, reason: 'pending-event' }, retryable: true },
  );

/**
 * Run a member and surface failures as typed errors: the provider's own words go to the
 * operator's log only; the user gets toSlipwayError's safe message. An abort stays an abort.
 */
export async function surfaced<T>(what: string, ctx: ProvisionContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? error;
    if (isPendingEvent(error)) {
      ctx.logger.warn('DigitalOcean: a droplet action is still pending', {
        what,
        providerMessage: error.providerMessage,
      });
      throw pendingEventError(what);
    }
    if (isProviderError(error)) {
      ctx.logger.warn('DigitalOcean call failed', {
        what,
        kind: error.kind,
        providerMessage: error.providerMessage,
        ...(error.details.requestId ? { providerRequestId: error.details.requestId } : {}),
      });
    }
    throw toSlipwayError(error, PROVIDER, what);
  }
}
