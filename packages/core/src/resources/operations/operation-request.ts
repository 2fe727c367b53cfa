/**
 * The request side of every operation (power, resize, hotplug), in one shape:
 *   IDOR (visibleResource) → capability (NOT_SUPPORTED) → in flight (CONFLICT) → state
 *   (INVALID_STATE) → work outside a transaction (a price) → one transaction: room on the
 *   resource's host for a growth (its row locked first; CAPACITY_EXHAUSTED), the checks
 *   again on the locked row, the claim of the resource's operation slot
 *   (`where operation is null`), the operation's own writes (a hold, a device), the job, the
 *   event → then answer at once or wait for the job like a create does.
 * Nothing is written before every check has passed; input is validated by the caller first.
 */

import type { Kysely, Transaction, UpdateObject } from 'kysely';
import type { Actor, Resource } from '../../domain.js';
import { ERROR_CODES, type ErrorCode, SlipwayError } from '../../errors.js';
import type { EventLog } from '../../events/event-log.js';
import type { HostCapacity } from '../../hosts/host-repository.js';
import { claimHostRoom, grows, NO_GROWTH } from '../../hosts/host-room.js';
import type { CreditLedger } from '../../ledger/ledger.js';
import type { Pricer } from '../../pricing/pricer.js';
import type { Clock } from '../../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../../provisioner/registry.js';
import { jsonb } from '../../storage/executor.js';
import type { SlipwayDatabase } from '../../storage/schema.js';
import { uuidv7 } from '../../util/uuidv7.js';
import { type AwaitDeps, awaitRow, type WaitOptions } from '../await-settled.js';
import type { ResourceJobs } from '../jobs/resource-jobs.js';
import { type ResourceRow, toResource } from '../resource-mapper.js';
import { visibleResource } from '../resource-repository.js';
import { type ActionContext, checkAction } from './allowed-actions.js';
import type { OperationRecord } from './operation-records.js';

export interface OperationDeps extends AwaitDeps {
  db: Kysely<SlipwayDatabase>;
  registry: ProvisionerRegistry;
  ledger: CreditLedger;
  events: EventLog;
  pricer: Pricer;
  clock: Clock;
  jobs: ResourceJobs;
}

/** What a claim writes beside the slot: the job's part of the record, column changes, event data. */
export interface ClaimWrites {
  record: DistributiveOmit<OperationRecord, 'id' | 'requestedBy' | 'startedAt'>;
  set?: UpdateObject<SlipwayDatabase, 'resources'>;
  data?: Record<string, unknown>;
}

export interface OperationClaim<Pre> {
  action: OperationRecord['action'];
  /** Checks of the (locked) row beyond `checkAction`: throw a typed error to refuse. */
  check?(row: ResourceRow): void;
  /** Work before the transaction (pricing through the provisioner); its result reaches `claim`. */
  before(row: ResourceRow): Promise<Pre>;
  /**
   * The room the operation takes beyond the resource's current size on its host (a bigger
   * resize, a disk), checked with the host's row locked before anything is written.
   */
  room?(row: ResourceRow, pre: Pre): HostCapacity;
  /** The operation's own writes in the claim's transaction (the row is locked and checked again). */
  claim(trx: Transaction<SlipwayDatabase>, row: ResourceRow, pre: Pre, operationId: string): Promise<ClaimWrites>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What `checkAction` needs to know of a resource (a stored row, or a Resource in row terms). */
export function actionContext(
  registry: ProvisionerRegistry,
  row: Pick<ResourceRow, 'status' | 'provisioner' | 'devices'> & {
    operation: { action: string } | null;
    pending_spec: unknown;
  },
): ActionContext {
  return {
    status: row.status,
    // A provisioner no longer registered can do nothing but be released.
    capabilities: registry.has(row.provisioner) ? registry.get(row.provisioner).capabilities : [],
    operationInFlight: row.operation?.action ?? null,
    pendingResize: row.pending_spec !== null,
    devices: row.devices,
  };
}

function refuseUnlessAllowed<Pre>(d: OperationDeps, claim: OperationClaim<Pre>, row: ResourceRow): void {
  const refusal = checkAction(claim.action, actionContext(d.registry, row), row.provisioner);
  if (refusal) throw withResource(refusal, row.id);
  claim.check?.(row);
}

export async function requestOperation<Pre>(
  d: OperationDeps,
  actor: Actor,
  id: string,
  claim: OperationClaim<Pre>,
  opts: WaitOptions,
): Promise<Resource> {
  const current = await visibleResource(d.db, actor, id);
  refuseUnlessAllowed(d, claim, current);
  const pre = await claim.before(current);
  const operationId = uuidv7(); // also the resize hold's id: time-ordered like every reservation
  const claimed = await d.db.transaction().execute(async (trx) => {
    // The host's row first (lock order: hosts → resources → wallet → events); the resource
    // counts at its size read above, which the claim checks is still its size.
    const need = claim.room?.(current, pre) ?? NO_GROWTH;
    if (current.host !== null && grows(need)) await claimHostRoom(trx, current.host, need, id);
    const row = await visibleResource(trx, actor, id, true);
    refuseUnlessAllowed(d, claim, row);
    const writes = await claim.claim(trx, row, pre, operationId);
    const now = d.clock.now();
    const record = {
      ...writes.record,
      id: operationId,
      requestedBy: actor.id,
      startedAt: now.toISOString(),
    } as OperationRecord;
    const next = await trx
      .updateTable('resources')
      .set({ ...writes.set, operation: jsonb(record), updated_at: now })
      .where('id', '=', id)
      .where('operation', 'is', null)
      .returningAll()
      .executeTakeFirst();
    // Unreachable under the row lock; kept so the slot's claim is atomic on its own.
    if (!next) throw new SlipwayError('CONFLICT', 'another operation claimed the resource', { details: { id } });
    const jobId = await d.jobs.operate(trx, now, id, operationId);
    await d.events.append(trx, {
      type: 'vm',
      action: 'resource.action_requested',
      actorId: actor.id,
      ownerId: row.owner_id,
      resourceId: id,
      data: { action: claim.action, operationId, ...writes.data },
    });
    return { row: next, jobId };
  });
  const settled = await awaitRow(d, claimed.row, claimed.jobId, (r) => r.operation?.id !== operationId, opts);
  const outcome = settled.last_operation;
  if (outcome?.id === operationId && outcome.state === 'FAILED') {
    const code: ErrorCode =
      outcome.code !== null && outcome.code in ERROR_CODES ? (outcome.code as ErrorCode) : 'PROVISIONER_FAILED';
    throw new SlipwayError(code, outcome.error ?? `${claim.action} failed`, {
      details: { resourceId: id, operationId },
    });
  }
  return toResource(settled);
}

const withResource = (error: SlipwayError, resourceId: string): SlipwayError =>
  new SlipwayError(error.code, error.message, { details: { ...error.details, resourceId } });
