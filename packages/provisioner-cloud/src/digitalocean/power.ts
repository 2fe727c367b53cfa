/**
 * Power control through droplet actions. DigitalOcean's own advice for a stop: a graceful
 * `shutdown` (which only guarantees the command was sent), then `power_off` if the droplet is
 * not `off` within a deadline. Each action is waited for through GET /v2/actions/{id}.
 */
import { type Allocation, type ProvisionContext, SlipwayError } from '@slipway/core';
import { type DropletActionType, PROVIDER } from './client.js';
import { callOptions, type DropletOps, requireDroplet, waitForAction, waitForDroplet } from './droplet-ops.js';

async function act(ops: DropletOps, id: number, type: DropletActionType, ctx: ProvisionContext): Promise<void> {
  const action = await ops.client.postAction(id, type, callOptions(ctx));
  await waitForAction(ops, action, ctx);
}

const notReached = (id: number, state: string, deadlineMs: number) =>
  new SlipwayError('PROVISIONER_TIMEOUT', `DigitalOcean droplet ${id} did not reach ${state} in time`, {
    details: { provider: PROVIDER, dropletId: id, deadlineMs },
  });

export async function stopDroplet(ops: DropletOps, allocation: Allocation, ctx: ProvisionContext): Promise<void> {
  const droplet = await requireDroplet(ops, allocation, ctx);
  if (droplet.status === 'off') return;
  await act(ops, droplet.id, 'shutdown', ctx).catch((error: unknown) => {
    // An errored or stuck shutdown is what power_off is for; anything else (auth, 5xx) is not.
    if (!(error instanceof SlipwayError) || ctx.signal.aborted) throw error;
  });
  const { shutdownMs, actionMs } = ops.config.deadlines;
  const graceful = await waitForDroplet(ops, droplet, (d) => d.status === 'off', shutdownMs, ctx);
  if (graceful.reached) {
    ctx.events.emit({ action: 'digitalocean.droplet_stopped', data: { dropletId: droplet.id, how: 'shutdown' } });
    return;
  }
  ctx.logger.warn('DigitalOcean: the droplet ignored shutdown; powering it off', { dropletId: droplet.id });
  await act(ops, droplet.id, 'power_off', ctx);
  const hard = await waitForDroplet(ops, graceful.droplet, (d) => d.status === 'off', actionMs, ctx);
  if (!hard.reached) throw notReached(droplet.id, 'off', actionMs);
  ctx.events.emit({
    action: 'digitalocean.droplet_stopped',
    severity: 'warning',
    data: { dropletId: droplet.id, how: 'power_off' },
  });
}

/** Run `type` and wait until the droplet is `active` again. */
async function toActive(
  ops: DropletOps,
  allocation: Allocation,
  type: DropletActionType,
  ctx: ProvisionContext,
): Promise<void> {
  const droplet = await requireDroplet(ops, allocation, ctx);
  if (type === 'power_on' && droplet.status === 'active') return;
  await act(ops, droplet.id, type, ctx);
  const { activeMs } = ops.config.deadlines;
  const up = await waitForDroplet(ops, droplet, (d) => d.status === 'active', activeMs, ctx);
  if (!up.reached) throw notReached(droplet.id, 'active', activeMs);
  ctx.events.emit({ action: `digitalocean.droplet_${type}`, data: { dropletId: droplet.id } });
}

export const startDroplet = (ops: DropletOps, allocation: Allocation, ctx: ProvisionContext) =>
  toActive(ops, allocation, 'power_on', ctx);

export const restartDroplet = (ops: DropletOps, allocation: Allocation, ctx: ProvisionContext) =>
  toActive(ops, allocation, 'reboot', ctx);

/** `hard` is a power cycle (the reset button); `soft` a graceful reboot. */
export const resetDroplet = (ops: DropletOps, allocation: Allocation, mode: 'hard' | 'soft', ctx: ProvisionContext) =>
  toActive(ops, allocation, mode === 'hard' ? 'power_cycle' : 'reboot', ctx);
