import type { AllocationRequest, ProvisionContext, ProvisionerStore } from '@slipway/core';
import { baseRequest, conformanceContext, type RecordingJobQueue, recordingJobQueue } from '@slipway/core/testing';
import type { MachineRecord, PoolEntryInput, PoolProvisioner } from '../src/index.js';

/** `count` machines m-00, m-01, ... with 4 vCPU / 8 GB / 100 GB unless overridden. */
export function machines(count: number, from = 0, extra: Partial<PoolEntryInput> = {}): PoolEntryInput[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return {
      id: `m-${String(n).padStart(2, '0')}`,
      name: `machine ${n}`,
      host: `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`,
      sshPort: 22,
      cockpitUrl: `https://10.0.0.${(n % 250) + 1}:9090/`,
      size: { vcpu: 4, memoryMb: 8192, diskGb: 100 },
      labels: { zone: 'a' },
      ...extra,
    };
  });
}

/** Machine number `n` alone. */
export function machine(n: number, extra: Partial<PoolEntryInput> = {}): PoolEntryInput {
  const [entry] = machines(1, n, extra);
  if (!entry) throw new Error('unreachable');
  return entry;
}

export type TestContext = ProvisionContext & { emitted: { action: string }[]; jobs: RecordingJobQueue };

/** Like the core's queue: a second enqueue with the key of a queued job is a no-op. */
function dedupingJobQueue(): RecordingJobQueue {
  const inner = recordingJobQueue();
  return {
    enqueued: inner.enqueued,
    enqueue: async (job) => {
      if (job.key === undefined || !inner.enqueued.some((j) => j.key === job.key)) await inner.enqueue(job);
    },
  };
}

export function testContext(store?: ProvisionerStore): TestContext {
  const jobs = dedupingJobQueue();
  return Object.assign(conformanceContext(undefined, { ...(store ? { store } : {}), jobs }), { jobs });
}

export const request = (overrides: Partial<AllocationRequest> = {}): AllocationRequest => baseRequest(overrides);

export async function record(ctx: ProvisionContext, id: string): Promise<MachineRecord | undefined> {
  return (await ctx.store.get<MachineRecord>(`machine/${id}`))?.value;
}

/** Run every queued job once, the way the core's job runner would (a throw means: retry later). */
export async function runJobs(p: PoolProvisioner, ctx: TestContext): Promise<unknown[]> {
  const jobs = ctx.jobs.enqueued.splice(0);
  const errors: unknown[] = [];
  for (const job of jobs) {
    const handler = p.jobHandlers[job.kind];
    if (!handler) throw new Error(`no handler for ${job.kind}`);
    try {
      await handler(job.payload, ctx);
    } catch (error) {
      errors.push(error);
      ctx.jobs.enqueued.push(job);
    }
  }
  return errors;
}
