/**
 * Pod operations over the typed documents, and the reading of a pod: its name (the key
 * Slipway finds it by), its SSH endpoint and its state. A pod is named `slipway-<resourceId>`
 * and carries SLIPWAY_RESOURCE_ID / SLIPWAY_REQUEST_ID in its env (RunPod has no tags).
 */
import type { AllocationStatusState, Logger } from '@slipway/core';
import type { VariablesOf } from 'gql.tada';
import { isProviderError, ProviderHttpError } from '../shared/provider-error.js';
import { PROVIDER, type RunpodClient } from './client.js';
import {
  DeployOnDemandMutation,
  MyPodsQuery,
  PodBidResumeMutation,
  PodQuery,
  PodResumeMutation,
  PodStopMutation,
  PodTerminateMutation,
  type PodView,
  RentInterruptableMutation,
} from './documents.js';

export type { PodView };
export type DeployInput = VariablesOf<typeof DeployOnDemandMutation>['input'];

/** The signal and logger of the provisioner call a request belongs to. */
export interface PodCall {
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** The public TCP mapping of the pod's port 22, once its container is up. */
export function sshEndpoint(pod: PodView): { ip: string; port: number } | undefined {
  const entry = pod.runtime?.ports?.find((p) => p?.isIpPublic && p.privatePort === 22 && p.type === 'tcp');
  return entry?.ip && entry.publicPort ? { ip: entry.ip, port: entry.publicPort } : undefined;
}

/** A value of the pod's env (RunPod returns it as `KEY=value` strings). */
export function envValue(pod: PodView, key: string): string | undefined {
  const entry = pod.env?.find((e) => e?.startsWith(`${key}=`));
  return entry?.slice(key.length + 1);
}

/** What the core is told about a pod (`null`: RunPod no longer knows it). */
export function podState(pod: PodView | null | undefined): AllocationStatusState {
  if (!pod) return 'gone';
  switch (pod.desiredStatus) {
    case 'TERMINATED':
      return 'gone';
    case 'EXITED':
    case 'PAUSED':
      return 'stopped';
    case 'DEAD':
      return 'failed';
    case 'RUNNING':
      return sshEndpoint(pod) ? 'running' : 'provisioning';
    default:
      return 'provisioning';
  }
}

/**
 * Several pods of one resource, in the order every replica agrees on: live ones by id (RunPod's
 * ids are random but stable), failed ones last. The first is kept, the others terminated.
 */
export function keepOrder(pods: readonly PodView[]): PodView[] {
  const failed = (p: PodView) => (podState(p) === 'failed' ? 1 : 0);
  return [...pods].sort((a, b) => failed(a) - failed(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const malformed = (why: string) => new ProviderHttpError(PROVIDER, 'network', `malformed answer: ${why}`);

export class PodApi {
  constructor(private readonly client: RunpodClient) {}

  /**
   * Every pod of the account that still exists. A list without `myself.pods`, or with a null
   * entry, is a broken answer, not an empty account: read as empty, release would report
   * nothing to terminate and the reaper would take every live pod for vanished.
   */
  async list(call: PodCall): Promise<PodView[]> {
    const data = await this.client.request(MyPodsQuery, {}, { what: 'list pods', idempotent: true, ...call });
    const pods = data.myself?.pods;
    if (!Array.isArray(pods)) throw malformed('the pod list has no myself.pods');
    const listed = pods.filter((p): p is PodView => Boolean(p?.id));
    if (listed.length !== pods.length) throw malformed('the pod list has an entry without an id');
    return listed.filter((p) => p.desiredStatus !== 'TERMINATED');
  }

  /** The live pods named `name`, the one to keep first (more than one only after a duplicate create). */
  async findByName(name: string, call: PodCall): Promise<PodView[]> {
    return keepOrder((await this.list(call)).filter((p) => p.name === name));
  }

  /** The pod, or null when RunPod answers `pod: null` (unknown id). An answer without `pod` is broken, not gone. */
  async get(podId: string, call: PodCall): Promise<PodView | null> {
    const data = await this.client.request(PodQuery, { podId }, { what: 'get pod', idempotent: true, ...call });
    if (data.pod === undefined) throw malformed('the answer has no pod field');
    return data.pod;
  }

  /** Rent a pod: on demand, or interruptible at `bidPerGpu`. Never repeated by the policy unless a 429 says so. */
  async deploy(input: DeployInput, bidPerGpu: number | undefined, call: PodCall): Promise<PodView> {
    const opts = { what: 'create pod', idempotent: false, ...call };
    const pod =
      bidPerGpu === undefined
        ? (await this.client.request(DeployOnDemandMutation, { input }, opts)).podFindAndDeployOnDemand
        : (await this.client.request(RentInterruptableMutation, { input: { ...input, bidPerGpu } }, opts))
            .podRentInterruptable;
    if (!pod) throw new ProviderHttpError(PROVIDER, 'server', 'create answered without a pod and without errors');
    return pod;
  }

  async stop(podId: string, call: PodCall): Promise<void> {
    await this.client.request(PodStopMutation, { podId }, { what: 'stop pod', idempotent: true, ...call });
  }

  async resume(podId: string, gpuCount: number, bidPerGpu: number | undefined, call: PodCall): Promise<void> {
    const opts = { what: 'start pod', idempotent: true, ...call };
    if (bidPerGpu === undefined) await this.client.request(PodResumeMutation, { podId, gpuCount }, opts);
    else await this.client.request(PodBidResumeMutation, { podId, gpuCount, bidPerGpu }, opts);
  }

  /** Terminate; a pod RunPod no longer knows counts as terminated. */
  async terminate(podId: string, call: PodCall): Promise<void> {
    try {
      await this.client.request(PodTerminateMutation, { podId }, { what: 'terminate pod', idempotent: true, ...call });
    } catch (error) {
      if (isProviderError(error) && error.kind === 'not_found') {
        call.logger.debug('runpod pod already gone', { podId });
        return;
      }
      throw error;
    }
  }
}
