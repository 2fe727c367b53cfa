/** How a create/release/operation waits for its job: run it here if nobody has, then poll (bounded). */

import type { Kysely } from 'kysely';
import type { ResourceStatus } from '../domain.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { sleep } from '../util/abort.js';
import type { JobTicket, ResourceJobs } from './jobs/resource-jobs.js';
import type { ResourceRow } from './resource-mapper.js';
import type { ResourcePolicy } from './resource-policy.js';
import { resourceById } from './resource-repository.js';

/** How a create/release answers: wait for the job (bounded by waitMs) or return at once. */
export interface WaitOptions {
  wait?: boolean;
  waitMs?: number;
  signal?: AbortSignal;
}

export interface AwaitDeps {
  db: Kysely<SlipwayDatabase>;
  jobs: Pick<ResourceJobs, 'runNow'>;
  policy: Pick<ResourcePolicy, 'wait' | 'waitMs'>;
}

/** Run our own job now if we can, then wait (bounded) for the resource to leave `from`. */
export function awaitSettled(
  d: AwaitDeps,
  row: ResourceRow,
  job: JobTicket | undefined,
  from: ResourceStatus,
  opts: WaitOptions,
): Promise<ResourceRow> {
  return awaitRow(d, row, job, (current) => current.status !== from, opts);
}

/** Run our own job now if we can, then wait (bounded) until `settled(row)`; the row as it is then. */
export async function awaitRow(
  d: AwaitDeps,
  row: ResourceRow,
  job: JobTicket | undefined,
  settled: (row: ResourceRow) => boolean,
  opts: WaitOptions,
): Promise<ResourceRow> {
  if (!(opts.wait ?? d.policy.wait) || settled(row)) return row;
  if (job !== undefined) {
    // The row the job settled, as its commit returned it: no read-back needed.
    const done = await d.jobs.runNow(job);
    if (done?.id === row.id && settled(done)) return done;
  }
  const deadline = Date.now() + (opts.waitMs ?? d.policy.waitMs);
  let delay = 10;
  for (;;) {
    const current = await resourceById(d.db, row.id);
    if (!current) throw new Error(`resource ${row.id} disappeared`);
    if (settled(current) || Date.now() >= deadline || opts.signal?.aborted) return current;
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 250);
  }
}
