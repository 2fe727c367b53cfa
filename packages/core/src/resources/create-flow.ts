/**
 * quote and create, with credit admission:
 *   validate → idempotency (owner, requestId) → rate limit → place on a host (host-placed
 *   provisioners; locks the hosts) → price → reserve (hold, lease) → insert PROVISIONING
 *   → enqueue the allocate job → event, all in one transaction;
 * then wait for the job (bounded) or answer at once with the resource PROVISIONING. The job
 * commits the hold on success or releases it on failure.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type Actor, type CreateResourceInput, isAdmin, type Resource } from '../domain.js';
import { InsufficientCreditsError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import { faultPoint } from '../faults.js';
import { type PlacementRequest, placeResource, previewPlacement } from '../hosts/host-placement.js';
import type { LocalHosts } from '../hosts/local-hosts.js';
import type { CreditLedger } from '../ledger/ledger.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import { pgErrorCode } from '../storage/executor.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { admitResource } from './admission-statement.js';
import { type AwaitDeps, awaitSettled, type WaitOptions } from './await-settled.js';
import { answerRetry, type PrepareDeps, type PreparedCreate, prepareCreate, storedFailure } from './create-request.js';
import type { JobTicket, ResourceJobs } from './jobs/resource-jobs.js';
import { type ResourceRow, toResource } from './resource-mapper.js';
import type { ResourcePolicy } from './resource-policy.js';
import { resourceByRequestId } from './resource-repository.js';

export interface Quote {
  provisioner: string;
  price: number;
  available: number;
  /** Whether a create with this input would be admitted right now. */
  admitted: boolean;
  /** Why it would not be: not enough credits, or no host with room (host-placed provisioners). */
  reason: 'INSUFFICIENT_CREDITS' | 'CAPACITY_EXHAUSTED' | null;
  /** The host it would be placed on now (host-placed provisioners), else null. */
  host: string | null;
}

export interface CreateDeps extends PrepareDeps, AwaitDeps {
  db: Kysely<SlipwayDatabase>;
  ledger: CreditLedger;
  limiter: RateLimiter;
  events: EventLog;
  jobs: ResourceJobs;
  policy: ResourcePolicy;
  hosts: Pick<LocalHosts, 'staleBefore'>;
}

/** Price a request and say whether it would be admitted now; writes nothing. */
export async function quoteResource(d: CreateDeps, actor: Actor, input: CreateResourceInput): Promise<Quote> {
  const p = await prepareCreate(d, input);
  const wallet = await d.ledger.wallet(d.db, actor.id);
  const now = d.clock.now();
  const placement = p.runtime.has('host')
    ? await previewPlacement(d.db, placementOf(actor, p, now, d.hosts.staleBefore(now)))
    : undefined;
  if (placement && 'error' in placement && placement.error.code !== 'CAPACITY_EXHAUSTED') throw placement.error;
  const credits = wallet.available >= p.price;
  const room = placement === undefined || 'host' in placement;
  return {
    provisioner: p.runtime.name,
    price: p.price,
    available: wallet.available,
    admitted: credits && room,
    reason: !credits ? 'INSUFFICIENT_CREDITS' : !room ? 'CAPACITY_EXHAUSTED' : null,
    host: placement && 'host' in placement ? placement.host : null,
  };
}

const placementOf = (actor: Actor, p: PreparedCreate, now: Date, staleBefore: Date): PlacementRequest => ({
  provisioner: p.runtime.name,
  spec: p.spec,
  requested: p.input.host,
  admin: isAdmin(actor),
  now,
  staleBefore,
});

export async function createResource(
  d: CreateDeps,
  actor: Actor,
  input: CreateResourceInput,
  opts: WaitOptions,
): Promise<Resource> {
  const p = await prepareCreate(d, input);
  const { db, ledger, events, clock, policy } = d;
  const requestId = p.input.requestId ?? randomUUID();
  const resourceId = randomUUID();
  const reservationId = randomUUID();
  const now = clock.now();

  // Waiting for the job: claim it in its insert and run it here (no claim round trip).
  const here = opts.wait ?? policy.wait;
  let created: { row: ResourceRow; job?: JobTicket | undefined };
  try {
    created = await db.transaction().execute(async (trx) => {
      await ledger.ensureAccount(trx, actor.id, actor.role);
      const existing = await resourceByRequestId(trx, actor.id, requestId);
      if (existing) return { row: existing };
      await d.limiter.consume(trx, actor.id, 'createResource', now);
      // No host with room: CAPACITY_EXHAUSTED rolls all of this back, before any credit is held.
      const host = p.runtime.has('host')
        ? await placeResource(trx, placementOf(actor, p, now, d.hosts.staleBefore(now)))
        : null;
      const hold = {
        reservationId,
        accountId: actor.id,
        amount: p.price,
        expiresAt: new Date(now.getTime() + policy.holdTtlMs),
        resourceId,
      };
      const row = await admitResource(trx, hold, {
        name: p.input.name,
        kind: p.input.kind,
        provisioner: p.runtime.name,
        host,
        spec: p.spec,
        options: p.options,
        metadata: p.input.metadata,
        labels: p.input.labels,
        expiresAt: p.expiresAt,
        requestId,
        requestParams: p.params,
        createdAt: now,
      });
      if (!row) {
        const wallet = await ledger.wallet(trx, actor.id);
        throw new InsufficientCreditsError(p.price, wallet.available);
      }
      const job = await d.jobs.allocate(trx, now, resourceId, { here: here && host === null });
      await events.append(trx, {
        type: 'vm',
        action: 'resource.requested',
        actorId: actor.id,
        ownerId: actor.id,
        resourceId,
        data: { provisioner: p.runtime.name, price: p.price, requestId },
      });
      return { row, job };
    });
  } catch (error) {
    // A concurrent request with the same requestId won the insert: answer as a retry.
    if (pgErrorCode(error) !== '23505') throw error;
    const existing = await resourceByRequestId(db, actor.id, requestId);
    if (!existing) throw error;
    created = { row: existing };
  }
  if (created.row.id !== resourceId) return answerRetry(created.row, p.params);

  faultPoint('create.after-reserve');
  const settled = await awaitSettled(d, created.row, created.job, 'PROVISIONING', opts);
  if (settled.status === 'FAILED') throw storedFailure(settled);
  return toResource(settled);
}
