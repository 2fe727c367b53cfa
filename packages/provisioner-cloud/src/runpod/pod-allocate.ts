/**
 * allocate: reuse the pod named after the resource, else rent one; then wait for its public
 * SSH port. A create whose outcome is unknown (5xx, time-out, dropped connection, a body that
 * is not JSON) is never blindly repeated: the pod is looked up by name first.
 *
 * Across processes (two replicas, or a create RunPod finished after our time-out) two pods can
 * still be rented. Once ours is up, every caller keeps the first of the resource's pods in
 * `keepOrder` (lowest id) and terminates the others; release terminates every pod by name.
 */
import { type Allocation, type AllocationRequest, type ProvisionContext, SlipwayError, sleep } from '@slipway/core';
import { isProviderError } from '../shared/provider-error.js';
import { PROVIDER } from './client.js';
import { type PodData, type PodPlan, planPod, podName, type RunpodConfig, type RunpodOptions } from './config.js';
import { type DeployInput, type PodApi, type PodCall, type PodView, podState, sshEndpoint } from './pods.js';

export async function allocatePod(
  api: PodApi,
  config: RunpodConfig,
  req: AllocationRequest<Partial<RunpodOptions>>,
  ctx: ProvisionContext,
): Promise<Allocation> {
  ctx.signal.throwIfAborted();
  const call: PodCall = { signal: ctx.signal, logger: ctx.logger };
  const plan = planPod(config, req.options);
  const name = podName(req.resourceId, config.namePrefix);
  const existing = usable(await api.findByName(name, call));
  if (existing) ctx.logger.info('runpod pod exists already; reusing it', { podId: existing.id });
  const pod = existing ?? (await createPod(api, config, name, deployInput(config, req, plan, name), plan, ctx));
  ctx.events.emit({
    action: existing ? 'runpod.pod_reused' : 'runpod.pod_created',
    data: { podId: pod.id, gpuType: plan.gpu.id, gpuCount: plan.gpuCount },
  });
  const ready = await settle(api, config, name, pod, ctx);
  const ssh = sshEndpoint(ready);
  const data: PodData = {
    gpuType: plan.gpu.id,
    gpuCount: plan.gpuCount,
    interruptible: plan.interruptible,
    ...(plan.bidPerGpu !== undefined ? { bidPerGpu: plan.bidPerGpu } : {}),
  };
  return {
    resourceId: req.resourceId,
    externalId: ready.id,
    ip: ssh?.ip ?? null,
    sshPort: ssh?.port ?? null,
    state: podState(ready) === 'stopped' ? 'stopped' : 'running',
    data: { ...data },
  };
}

function deployInput(config: RunpodConfig, req: AllocationRequest, plan: PodPlan, name: string): DeployInput {
  const env = [
    { key: 'SLIPWAY_RESOURCE_ID', value: req.resourceId },
    { key: 'SLIPWAY_REQUEST_ID', value: req.requestId },
    // RunPod's images append PUBLIC_KEY to root's authorized_keys; several keys go one per line.
    ...(plan.sshKeys.length ? [{ key: 'PUBLIC_KEY', value: plan.sshKeys.join('\n') }] : []),
  ];
  return {
    name,
    imageName: plan.imageName,
    gpuTypeId: plan.gpu.id,
    gpuCount: plan.gpuCount,
    cloudType: plan.cloudType,
    containerDiskInGb: Math.max(config.defaults.containerDiskInGb, req.spec.diskGb),
    volumeInGb: config.defaults.volumeInGb,
    minVcpuCount: Math.ceil(req.spec.vcpu),
    minMemoryInGb: Math.ceil(req.spec.memoryMb / 1024),
    ports: '22/tcp',
    startSsh: true,
    supportPublicIp: true,
    env,
    ...(plan.dataCenterId ? { dataCenterId: plan.dataCenterId } : {}),
  };
}

async function createPod(
  api: PodApi,
  config: RunpodConfig,
  name: string,
  input: DeployInput,
  plan: PodPlan,
  ctx: ProvisionContext,
): Promise<PodView> {
  const call: PodCall = { signal: ctx.signal, logger: ctx.logger };
  const bid = plan.interruptible ? plan.bidPerGpu : undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.deploy(input, bid, call);
    } catch (error) {
      // Capacity, a refused request, bad credentials: the create did not happen; say so.
      if (!isProviderError(error) || !error.transient || attempt >= config.deadlines.createAttempts) throw error;
      ctx.logger.warn('runpod create has an unknown outcome; looking the pod up by name before another', {
        attempt,
        kind: error.kind,
      });
      await sleep(config.deadlines.createRetryDelayMs, ctx.signal);
      const found = usable(await api.findByName(name, call));
      if (found) return found;
    }
  }
}

/** A pod of the resource worth reusing: a failed one is left for convergence or release to terminate. */
const usable = (pods: readonly PodView[]): PodView | undefined => pods.find((p) => podState(p) !== 'failed');

/** Wait for the pod, then converge on the resource's pod to keep; adopt it when ours was terminated meanwhile. */
async function settle(
  api: PodApi,
  config: RunpodConfig,
  name: string,
  first: PodView,
  ctx: ProvisionContext,
): Promise<PodView> {
  const call: PodCall = { signal: ctx.signal, logger: ctx.logger };
  let pod = first;
  for (let hop = 0; ; hop++) {
    const ready = await waitReady(api, config, pod, ctx);
    if (!ready) {
      // Gone while starting: another replica may have kept another pod of the resource and terminated ours.
      const other = hop < 5 ? usable(await api.findByName(name, call)) : undefined;
      if (!other) throw ended('gone');
      pod = other;
      continue;
    }
    const keep = hop < 5 ? await converge(api, name, ready, ctx) : ready;
    if (keep.id === ready.id) return ready;
    pod = keep;
  }
}

/**
 * The pod to keep: the first of the resource's pods in `keepOrder` (every replica picks the
 * same). The others are terminated; a failed terminate is logged (release terminates by name).
 */
async function converge(api: PodApi, name: string, ours: PodView, ctx: ProvisionContext): Promise<PodView> {
  const call: PodCall = { signal: ctx.signal, logger: ctx.logger };
  const listed = await api.findByName(name, call);
  // Not listed: terminated by a replica that kept another (adopt that one), or not listed yet (keep ours).
  if (!listed.some((p) => p.id === ours.id)) return usable(listed) ?? ours;
  const keep = listed[0] ?? ours;
  for (const other of listed.filter((p) => p.id !== keep.id)) {
    ctx.logger.warn('runpod: another pod was rented for this resource; keeping one', {
      keptId: keep.id,
      podId: other.id,
    });
    await api.terminate(other.id, call).catch((error: unknown) => {
      if (ctx.signal.aborted) throw error;
      ctx.logger.warn('runpod: terminating the extra pod failed; the release will', { podId: other.id });
    });
  }
  return keep;
}

const ended = (podState: string) =>
  new SlipwayError('PROVISIONER_FAILED', `${PROVIDER} pod ended while it was starting`, {
    details: { provider: PROVIDER, podState },
  });

/** Poll the pod until its public SSH port shows (its `runtime` is null at first); null when it is gone. */
async function waitReady(
  api: PodApi,
  config: RunpodConfig,
  created: PodView,
  ctx: ProvisionContext,
): Promise<PodView | null> {
  const call: PodCall = { signal: ctx.signal, logger: ctx.logger };
  const { readyTimeoutMs, pollIntervalMs } = config.deadlines;
  const deadline = ctx.clock.now().getTime() + readyTimeoutMs;
  let pod: PodView | null = created;
  for (;;) {
    const state = podState(pod);
    if (!pod || state === 'gone') return null;
    if (state === 'failed') throw ended(state);
    if (state === 'running' || state === 'stopped') return pod;
    const left = deadline - ctx.clock.now().getTime();
    if (left <= 0) {
      throw new SlipwayError(
        'PROVISIONER_TIMEOUT',
        `${PROVIDER} pod did not expose SSH within ${Math.round(readyTimeoutMs / 1000)} s`,
        { details: { provider: PROVIDER } },
      );
    }
    await sleep(Math.min(pollIntervalMs, left), ctx.signal);
    pod = await api.get(created.id, call);
  }
}
