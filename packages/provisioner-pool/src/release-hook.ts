/**
 * The release hook: after a machine is released it is cleaned up by an external deployer
 * (wipe, re-image) before it is handed out again. The call runs as a durable core job; the
 * handler throws on failure so the core retries with backoff, and gives up with a critical
 * event after `maxAttempts`. The machine stays `cleaning` until the hook succeeds.
 */
import type { JobHandlers, ProvisionContext } from '@slipway/core';
import { z } from 'zod';

type JobHandler = JobHandlers['jobHandlers'][string];

import { freed, type MachineRecord, machineKey } from './machine-record.js';
import { updateMachine } from './update-machine.js';

export interface ReleaseHookOptions {
  /** Deployer endpoint that gets a JSON POST per released machine, e.g. `https://deployer/admin/release-vm`. */
  readonly url: string;
  /** Extra request headers, e.g. `{ authorization: 'Bearer …' }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per-attempt time-out in ms. Default 10 000. */
  readonly timeoutMs?: number;
  /** Attempts before the core gives the job up with a critical event. Default: the core's (8). */
  readonly maxAttempts?: number;
}

export const RELEASE_HOOK_JOB = 'release-hook';

/** Job payload and, as JSON, the body POSTed to the deployer. */
export const releaseHookPayloadSchema = z.object({
  machineId: z.string().min(1),
  name: z.string(),
  host: z.string(),
  sshPort: z.number(),
  resourceId: z.string().min(1),
  ownerId: z.string().nullable(),
  requestId: z.string().nullable(),
});
export type ReleaseHookPayload = z.infer<typeof releaseHookPayloadSchema>;

/**
 * One job per machine and tenancy: a second enqueue for the same release is a no-op in the
 * core, while the release of the machine's next user (whose hook job may overlap a finishing
 * one) gets its own job.
 */
export const releaseHookJobKey = (provisioner: string, machineId: string, resourceId = ''): string =>
  `${provisioner}-release-hook:${machineId}:${resourceId}`;

export async function enqueueReleaseHook(
  ctx: ProvisionContext,
  provisioner: string,
  machine: MachineRecord,
  hook: ReleaseHookOptions | undefined,
): Promise<void> {
  const payload: ReleaseHookPayload = {
    machineId: machine.id,
    name: machine.name,
    host: machine.host,
    sshPort: machine.sshPort,
    resourceId: machine.resourceId ?? '',
    ownerId: machine.ownerId,
    requestId: machine.requestId,
  };
  await ctx.jobs.enqueue({
    kind: RELEASE_HOOK_JOB,
    key: releaseHookJobKey(provisioner, machine.id, machine.resourceId ?? ''),
    payload,
    ...(hook?.maxAttempts === undefined ? {} : { maxAttempts: hook.maxAttempts }),
  });
}

/** The `release-hook` job handler. Without a hook configured it just frees the machine. */
/** The subset of `fetch` the hook uses; the global one by default. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export function releaseHookHandler(hook: ReleaseHookOptions | undefined, fetchFn: FetchLike): JobHandler {
  return async (raw, ctx) => {
    const payload = releaseHookPayloadSchema.parse(raw);
    const stillCleaning = (m: MachineRecord | undefined): m is MachineRecord =>
      m?.status === 'cleaning' && m.resourceId === payload.resourceId;
    // A duplicate or late run: the machine was already freed (and maybe handed out again).
    if (!stillCleaning((await ctx.store.get<MachineRecord>(machineKey(payload.machineId)))?.value)) return;

    if (hook) await post(hook, payload, fetchFn, ctx.signal);
    const now = ctx.clock.now();
    const { after } = await updateMachine(ctx.store, payload.machineId, (current) =>
      stillCleaning(current) ? (current.removed ? null : freed(current, now)) : undefined,
    );
    ctx.events.emit({
      action: 'pool.release_hook.succeeded',
      data: { machineId: payload.machineId, resourceId: payload.resourceId, status: after?.status ?? 'dropped' },
    });
  };
}

async function post(
  hook: ReleaseHookOptions,
  payload: ReleaseHookPayload,
  fetchFn: FetchLike,
  signal: AbortSignal,
): Promise<void> {
  const response = await fetchFn(hook.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...hook.headers },
    body: JSON.stringify(payload),
    signal: AbortSignal.any([signal, AbortSignal.timeout(hook.timeoutMs ?? 10_000)]),
  });
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    // Throwing makes the core retry the job with backoff.
    throw new Error(`release hook for ${payload.machineId} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
  }
}
