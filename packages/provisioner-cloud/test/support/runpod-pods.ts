/**
 * The RunPod fake's state: pods as RunPod keeps them, and the resolvers that run over them.
 * Behaviour follows cloud-apis.md B.1 and C.5: `runtime` is null until the container is up,
 * stop → EXITED, terminate removes the pod and a second terminate is "pod not found to terminate".
 */
import { randomInt } from 'node:crypto';
import { GraphQLError } from 'graphql';

export interface StoredPod {
  id: string;
  name: string;
  desiredStatus: 'RUNNING' | 'EXITED' | 'TERMINATED';
  imageName: string;
  env: string[];
  gpuTypeId: string;
  gpuCount: number;
  costPerHr: number;
  cloudType: string;
  podType: 'RESERVED' | 'INTERRUPTABLE';
  bidPerGpu: number | null;
  machineId: string;
  /** `pod` polls left before the container is up (its runtime appears). */
  pollsLeft: number;
  sshPublicPort: number | null;
  input: Record<string, unknown>;
}

export const CAPACITY_MESSAGES = [
  'There are no longer any instances available with the requested specifications. Please refresh and try again.',
  'There are no longer any instances available with the request specifications. Please try again later.',
  'There are no longer any instances available with enough disk space.',
] as const;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const randomId = (length: number) => Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

interface EnvInput {
  key: string;
  value: string;
}

export class PodStore {
  readonly pods = new Map<string, StoredPod>();
  /** Every pod ever created, terminated ones included (a test counts duplicates with it). */
  readonly created: StoredPod[] = [];
  /** The next create answers with this capacity message instead. */
  capacityOnNextCreate: string | undefined;

  constructor(
    private readonly readyAfterPolls: number,
    /** Per GPU type, a slower start (a test that aborts mid-allocate needs one). */
    private readonly readyAfterPollsFor: Readonly<Record<string, number>> = {},
  ) {}

  #readyAfter(gpuTypeId: string): number {
    return this.readyAfterPollsFor[gpuTypeId] ?? this.readyAfterPolls;
  }

  /** What the GraphQL `Pod` type shows for a stored pod. */
  view(p: StoredPod) {
    const up = p.desiredStatus === 'RUNNING' && p.pollsLeft <= 0 && p.sshPublicPort !== null;
    return {
      id: p.id,
      name: p.name,
      desiredStatus: p.desiredStatus,
      imageName: p.imageName,
      env: p.env,
      costPerHr: p.costPerHr,
      gpuCount: p.gpuCount,
      vcpuCount: 8 * p.gpuCount,
      memoryInGb: 31 * p.gpuCount,
      containerDiskInGb: p.input.containerDiskInGb ?? 20,
      volumeInGb: p.input.volumeInGb ?? 0,
      volumeMountPath: '/workspace',
      podType: p.podType,
      machineId: p.machineId,
      machine: { podHostId: `${p.id}-64410065`, gpuDisplayName: p.gpuTypeId, dataCenterId: 'EU-RO-1', location: 'RO' },
      lastStatusChange: `Rented by User: ${new Date().toDateString()}`,
      ports: typeof p.input.ports === 'string' ? p.input.ports : null,
      dockerArgs: null,
      uptimeSeconds: up ? 1 : 0,
      runtime: up
        ? {
            uptimeInSeconds: 1,
            ports: [
              { ip: '100.65.0.101', isIpPublic: false, privatePort: 22, publicPort: 22, type: 'tcp' },
              { ip: '194.68.245.30', isIpPublic: true, privatePort: 22, publicPort: p.sshPublicPort, type: 'tcp' },
            ],
          }
        : null,
    };
  }

  create(input: Record<string, unknown>, bidPerGpu: number | null) {
    if (this.capacityOnNextCreate) {
      const message = this.capacityOnNextCreate;
      this.capacityOnNextCreate = undefined;
      throw new GraphQLError(message);
    }
    const gpuCount = typeof input.gpuCount === 'number' ? input.gpuCount : 1;
    const env = Array.isArray(input.env) ? (input.env as EnvInput[]).map((e) => `${e.key}=${e.value}`) : [];
    const pod: StoredPod = {
      id: randomId(14),
      name: typeof input.name === 'string' && input.name ? input.name : String(input.imageName),
      desiredStatus: 'RUNNING',
      imageName: String(input.imageName ?? ''),
      env,
      gpuTypeId: String(input.gpuTypeId ?? ''),
      gpuCount,
      costPerHr: (bidPerGpu ?? 0.69) * gpuCount,
      cloudType: String(input.cloudType ?? 'ALL'),
      podType: bidPerGpu === null ? 'RESERVED' : 'INTERRUPTABLE',
      bidPerGpu,
      machineId: randomId(12),
      pollsLeft: this.#readyAfter(String(input.gpuTypeId ?? '')),
      sshPublicPort: String(input.ports ?? '').includes('22/tcp') ? 10_000 + randomInt(50_000) : null,
      input,
    };
    this.pods.set(pod.id, pod);
    this.created.push(pod);
    return this.view(pod);
  }

  /** A `pod` query: each one brings a starting container one poll closer to up. */
  poll(podId: string) {
    const pod = this.pods.get(podId);
    if (!pod) return null;
    if (pod.desiredStatus === 'RUNNING') pod.pollsLeft -= 1;
    return this.view(pod);
  }

  stop(podId: string) {
    const pod = this.mustGet(podId);
    pod.desiredStatus = 'EXITED';
    return { id: pod.id, desiredStatus: pod.desiredStatus };
  }

  resume(podId: string, gpuCount: number, bidPerGpu: number | null) {
    const pod = this.mustGet(podId);
    if ((pod.podType === 'INTERRUPTABLE') !== (bidPerGpu !== null)) {
      throw new GraphQLError(bidPerGpu === null ? 'Use podBidResume for a spot pod' : 'This pod is not a spot pod');
    }
    if (pod.desiredStatus !== 'RUNNING') pod.pollsLeft = this.#readyAfter(pod.gpuTypeId);
    pod.desiredStatus = 'RUNNING';
    pod.gpuCount = gpuCount;
    // A resumed pod may land on new ports.
    if (pod.sshPublicPort !== null) pod.sshPublicPort = 10_000 + randomInt(50_000);
    return { id: pod.id, desiredStatus: pod.desiredStatus, imageName: pod.imageName };
  }

  terminate(podId: string): null {
    const pod = this.pods.get(podId);
    if (!pod) throw new GraphQLError('pod not found to terminate');
    pod.desiredStatus = 'TERMINATED';
    this.pods.delete(podId);
    return null;
  }

  /** The resolvers, as graphql-js's default field resolver reads them from the root value. */
  rootValue() {
    type Input<T> = { input: T };
    return {
      myself: () => ({ id: 'user_fake', pods: () => [...this.pods.values()].map((p) => this.view(p)) }),
      pod: ({ input }: Input<{ podId: string }>) => this.poll(input.podId),
      podFindAndDeployOnDemand: ({ input }: Input<Record<string, unknown>>) => this.create(input, null),
      podRentInterruptable: ({ input }: Input<Record<string, unknown> & { bidPerGpu: number }>) =>
        this.create(input, input.bidPerGpu),
      podStop: ({ input }: Input<{ podId: string }>) => this.stop(input.podId),
      podResume: ({ input }: Input<{ podId: string; gpuCount: number }>) =>
        this.resume(input.podId, input.gpuCount, null),
      podBidResume: ({ input }: Input<{ podId: string; gpuCount: number; bidPerGpu: number }>) =>
        this.resume(input.podId, input.gpuCount, input.bidPerGpu),
      podTerminate: ({ input }: Input<{ podId: string }>) => this.terminate(input.podId),
    };
  }

  private mustGet(podId: string): StoredPod {
    const pod = this.pods.get(podId);
    if (!pod) throw new GraphQLError('Pod not found');
    return pod;
  }
}
