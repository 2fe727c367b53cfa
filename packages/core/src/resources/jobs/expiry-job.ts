/**
 * `resource.expire`: release a batch of expired resources (RELEASING → EXPIRED). Ten thousand
 * expiring together are 200 jobs, not 10,000: one claim, one read and one finish per batch,
 * the provider calls a few at a time, and the ends grouped into shared commits
 * (release-completions.ts). What fails at the provider becomes a `resource.release` job of its
 * own, which retries for ever and alerts like any release; the batch itself does not retry it.
 * A batch taken over after a crash releases again only what is still RELEASING, and a
 * provisioner's release is idempotent.
 */
import type { JobHandler } from '../../jobs/job-runner.js';
import { RESOURCE_COLUMNS, type ResourceRow, resourceSink, toAllocation } from '../resource-mapper.js';
import type { WorkerDeps } from '../worker-deps.js';
import type { releaseCompletions } from './release-completions.js';

/** Provider calls in flight per batch: a cloud API's rate limit sees at most this many per slot. */
export const EXPIRE_CALLS_PER_JOB = 8;

export function expiryJob(d: WorkerDeps, completions: ReturnType<typeof releaseCompletions>): JobHandler {
  return {
    run: async (job, signal) => {
      const ids = payloadResourceIds(job.payload);
      const rows = await d.db
        .selectFrom('resources')
        .select(RESOURCE_COLUMNS)
        .where('id', 'in', ids)
        .where('status', '=', 'RELEASING')
        .execute();
      const failed: string[] = [];
      await eachAtMost(rows, EXPIRE_CALLS_PER_JOB, async (row) => {
        if (signal.aborted) return; // the rest goes back with the batch, to the lease's new owner
        try {
          await releaseOne(d, row, signal);
          await completions.end({ row, expired: true, actorId: null });
        } catch (error) {
          if (signal.aborted) return; // stopping or lease lost: the batch goes back whole
          failed.push(row.id);
          d.logger.warn('expiry release failed; retried on its own', { resourceId: row.id, error: String(error) });
        }
      });
      signal.throwIfAborted();
      if (failed.length > 0) await d.jobs.releaseEach(d.db, d.clock.now(), failed);
    },
  };
}

async function releaseOne(d: WorkerDeps, row: ResourceRow, signal: AbortSignal): Promise<void> {
  if (!row.external_id) return;
  await d.registry
    .get(row.provisioner)
    .release(toAllocation(row), { signal, events: resourceSink(d.eventService, row) });
}

/** Run `work` over `items`, at most `limit` at a time (a dozen lines; no dependency for it). */
async function eachAtMost<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function payloadResourceIds(payload: Record<string, unknown>): string[] {
  const ids = payload.resourceIds;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}
