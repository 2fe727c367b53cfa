/**
 * The request side of the resource lifecycle, with credit admission:
 *   validate → idempotency (owner, requestId) → rate limit → price → reserve (hold, lease)
 *   → enqueue the allocate job, all in one transaction; then wait for the job (bounded) or
 *   answer at once with the resource PROVISIONING. The job (ResourceWorkflows) commits the
 *   hold on success or releases it on failure. No transaction is ever held open across a
 *   provisioner call, and every state change writes an event in its transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  type Actor,
  CreateResourceInputSchema,
  isAdmin,
  type ParsedCreateResourceInput,
  type Resource,
  type ResourceSpec,
  type ResourceStatus,
} from '../domain.js';
import { ERROR_CODES, type ErrorCode, notFound, SlipwayError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import { faultPoint } from '../faults.js';
import { enqueueJob } from '../jobs/job-queue.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { CreditLedger } from '../ledger/ledger.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { Pricer } from '../pricing/pricer.js';
import type { Clock, Logger } from '../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../provisioner/registry.js';
import type { RuntimeProvisioner } from '../provisioner/runtime-provisioner.js';
import { type Executor, jsonb, pgErrorCode } from '../storage/executor.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import { sleep } from '../util/abort.js';
import { parseOrThrow } from '../util/parse.js';
import { canonicalJson, mergePatch, type ResourceRow, toAllocation, toResource } from './resource-mapper.js';
import type { ResourcePolicy } from './resource-policy.js';
import { JOB_KINDS, jobKeys, RETRY_FOREVER, type ResourceWorkflows } from './resource-workflows.js';

export { DEFAULT_RESOURCE_POLICY, type ResourcePolicy } from './resource-policy.js';

/** How a create/release answers: wait for the job (bounded by waitMs) or return at once. */
export interface WaitOptions {
  wait?: boolean;
  waitMs?: number;
  signal?: AbortSignal;
}

export interface ResourceServiceDeps {
  db: Kysely<SlipwayDatabase>;
  registry: ProvisionerRegistry;
  ledger: CreditLedger;
  events: EventLog;
  pricer: Pricer;
  clock: Clock;
  logger: Logger;
  policy: ResourcePolicy;
  limiter: RateLimiter;
  runner: JobRunner;
  workflows: ResourceWorkflows;
}

export interface Quote {
  provisioner: string;
  price: number;
  available: number;
  /** Whether a create with this input would be admitted right now. */
  admitted: boolean;
}

export interface ListResourcesQuery {
  status?: ResourceStatus[];
  provisioner?: string;
  /** Admins only: one owner's resources. */
  ownerId?: string;
  first?: number;
  /** Opaque cursor from a previous page. */
  after?: string;
}

export interface ResourcePage {
  items: Resource[];
  /** Cursor of each item, in order; pass one as `after` to continue after it. */
  cursors: string[];
  endCursor: string | null;
  hasNextPage: boolean;
}

interface Prepared {
  input: ParsedCreateResourceInput;
  runtime: RuntimeProvisioner;
  options: Record<string, unknown>;
  spec: ResourceSpec;
  price: number;
  expiresAt: Date | null;
  params: Record<string, unknown>;
}

const RELEASABLE: readonly ResourceStatus[] = ['RUNNING', 'STOPPED', 'FAILED'];

export class ResourceService {
  readonly #d: ResourceServiceDeps;

  constructor(deps: ResourceServiceDeps) {
    this.#d = deps;
  }

  /** Price a request and say whether it would be admitted now; writes nothing. */
  async quote(actor: Actor, input: unknown): Promise<Quote> {
    const p = await this.#prepare(input);
    const wallet = await this.#d.ledger.wallet(this.#d.db, actor.id);
    return {
      provisioner: p.runtime.name,
      price: p.price,
      available: wallet.available,
      admitted: wallet.available >= p.price,
    };
  }

  /**
   * Create a resource for `actor`. Credits are held now and charged only when the
   * allocation succeeds. With `wait` (the default) the answer is the settled resource, or
   * the allocation's typed error; without it, the resource in PROVISIONING.
   */
  async create(actor: Actor, input: unknown, opts: WaitOptions = {}): Promise<Resource> {
    const p = await this.#prepare(input);
    const { db, ledger, events, clock, policy } = this.#d;
    const requestId = p.input.requestId ?? randomUUID();
    const resourceId = randomUUID();
    const reservationId = randomUUID();
    const now = clock.now();

    let created: { row: ResourceRow; jobId?: number | undefined };
    try {
      created = await db.transaction().execute(async (trx) => {
        await ledger.ensureAccount(trx, actor.id, actor.role);
        const existing = await this.#byRequestId(trx, actor.id, requestId);
        if (existing) return { row: existing };
        await this.#d.limiter.consume(trx, actor.id, 'createResource', now);
        await ledger.reserve(trx, {
          reservationId,
          accountId: actor.id,
          amount: p.price,
          expiresAt: new Date(now.getTime() + policy.holdTtlMs),
          resourceId,
        });
        const row = await trx
          .insertInto('resources')
          .values({
            id: resourceId,
            owner_id: actor.id,
            name: p.input.name,
            kind: p.input.kind,
            provisioner: p.runtime.name,
            spec: jsonb(p.spec),
            options: jsonb(p.options),
            status: 'PROVISIONING',
            metadata: jsonb(p.input.metadata),
            labels: jsonb(p.input.labels),
            expires_at: p.expiresAt,
            cost: p.price,
            request_id: requestId,
            request_params: jsonb(p.params),
            reservation_id: reservationId,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        const jobId = await enqueueJob(trx, now, {
          kind: JOB_KINDS.allocate,
          payload: { resourceId },
          key: jobKeys.allocate(resourceId),
          maxAttempts: policy.allocateAttempts,
        });
        await events.append(trx, {
          type: 'vm',
          action: 'resource.requested',
          actorId: actor.id,
          ownerId: actor.id,
          resourceId,
          data: { provisioner: p.runtime.name, price: p.price, requestId },
        });
        return { row, jobId };
      });
    } catch (error) {
      // A concurrent request with the same requestId won the insert: answer as a retry.
      if (pgErrorCode(error) !== '23505') throw error;
      const existing = await this.#byRequestId(db, actor.id, requestId);
      if (!existing) throw error;
      created = { row: existing };
    }
    if (created.row.id !== resourceId) return this.#answerRetry(created.row, p.params);

    faultPoint('create.after-reserve');
    const settled = await this.#await(created.row, created.jobId, 'PROVISIONING', opts);
    if (settled.status === 'FAILED') throw storedFailure(settled);
    return toResource(settled);
  }

  /**
   * Release the machine: mark RELEASING and enqueue the release job (retried until the
   * provisioner confirms). Releasing something already released answers it as it is.
   */
  async release(actor: Actor, id: string, opts: WaitOptions = {}): Promise<Resource> {
    const { db, events, clock } = this.#d;
    const claimed = await db.transaction().execute(async (trx) => {
      const row = await this.#visible(trx, actor, id, true);
      const now = clock.now();
      const enqueueRelease = () =>
        enqueueJob(trx, now, {
          kind: JOB_KINDS.release,
          payload: { resourceId: id, reason: 'user', actorId: actor.id },
          key: jobKeys.release(id),
          maxAttempts: RETRY_FOREVER,
        });
      if (row.status === 'RELEASED' || row.status === 'EXPIRED') return { row, jobId: undefined };
      // Already releasing: make sure a release job is alive (no-op when one is), then answer as it is.
      if (row.status === 'RELEASING') return { row, jobId: await enqueueRelease() };
      if (!RELEASABLE.includes(row.status as ResourceStatus)) {
        throw new SlipwayError('INVALID_STATE', `resource ${id} is ${row.status} and cannot be released yet`, {
          details: { status: row.status },
        });
      }
      // A failed allocation never had a machine (its cleanup job sees to any half-built one);
      // a machine that failed after it ran still exists at the provider and is released there.
      const nothingToRelease = row.status === 'FAILED' && !row.external_id;
      const next = await trx
        .updateTable('resources')
        .set(
          nothingToRelease
            ? { status: 'RELEASED', released_at: now, updated_at: now }
            : { status: 'RELEASING', updated_at: now },
        )
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const jobId = nothingToRelease ? undefined : await enqueueRelease();
      await events.append(trx, {
        type: 'vm',
        action: next.status === 'RELEASED' ? 'resource.released' : 'resource.releasing',
        actorId: actor.id,
        ownerId: row.owner_id,
        resourceId: id,
        data: { from: row.status },
      });
      return { row: next, jobId };
    });
    if (claimed.jobId !== undefined) faultPoint('release.after-claim');
    return toResource(await this.#await(claimed.row, claimed.jobId, 'RELEASING', opts));
  }

  /** Run our own job now if we can, then wait (bounded) for the resource to leave `from`. */
  async #await(
    row: ResourceRow,
    jobId: number | undefined,
    from: ResourceStatus,
    opts: WaitOptions,
  ): Promise<ResourceRow> {
    if (!(opts.wait ?? this.#d.policy.wait) || row.status !== from) return row;
    if (jobId !== undefined) await this.#d.runner.runNow(jobId);
    const deadline = Date.now() + (opts.waitMs ?? this.#d.policy.waitMs);
    let delay = 10;
    for (;;) {
      const current = await this.#d.db
        .selectFrom('resources')
        .selectAll()
        .where('id', '=', row.id)
        .executeTakeFirstOrThrow();
      if (current.status !== from || Date.now() >= deadline || opts.signal?.aborted) return current;
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(delay * 2, 250);
    }
  }

  /** Ask the provisioner what the machine is doing and store it. */
  async refresh(actor: Actor, id: string, opts: { signal?: AbortSignal } = {}): Promise<Resource> {
    const row = await this.#visible(this.#d.db, actor, id);
    if (row.status !== 'RUNNING' && row.status !== 'STOPPED') return toResource(row);
    const status = await this.#d.registry
      .get(row.provisioner)
      .status(toAllocation(row), { signal: opts.signal, events: this.#d.workflows.sink(row) });
    const next: ResourceStatus =
      status.state === 'stopped'
        ? 'STOPPED'
        : status.state === 'running' || status.state === 'provisioning'
          ? 'RUNNING'
          : 'FAILED';
    const updated = await this.#d.db.transaction().execute(async (trx) => {
      const out = await trx
        .updateTable('resources')
        .set({
          status: next,
          ip: status.ip === undefined ? row.ip : status.ip,
          ssh_port: status.sshPort === undefined ? row.ssh_port : status.sshPort,
          cockpit_url: status.cockpitUrl === undefined ? row.cockpit_url : status.cockpitUrl,
          error: next === 'FAILED' ? (status.message ?? `machine is ${status.state} at the provider`) : row.error,
          updated_at: this.#d.clock.now(),
        })
        .where('id', '=', id)
        .where('status', '=', row.status)
        .returningAll()
        .executeTakeFirst();
      if (out && out.status !== row.status) {
        await this.#d.events.append(trx, {
          type: 'vm',
          action: 'resource.status_changed',
          severity: next === 'FAILED' ? 'critical' : 'info',
          actorId: actor.id,
          ownerId: row.owner_id,
          resourceId: id,
          data: { from: row.status, to: next, providerState: status.state },
        });
      }
      return out;
    });
    return toResource(updated ?? (await this.#visible(this.#d.db, actor, id)));
  }

  async get(actor: Actor, id: string): Promise<Resource> {
    return toResource(await this.#visible(this.#d.db, actor, id));
  }

  async list(actor: Actor, query: ListResourcesQuery = {}): Promise<ResourcePage> {
    const first = Math.min(Math.max(query.first ?? 20, 1), 100);
    let q = this.#d.db
      .selectFrom('resources')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(first + 1);
    if (!isAdmin(actor)) q = q.where('owner_id', '=', actor.id);
    else if (query.ownerId) q = q.where('owner_id', '=', query.ownerId);
    if (query.status?.length) q = q.where('status', 'in', query.status);
    if (query.provisioner) q = q.where('provisioner', '=', query.provisioner);
    if (query.after) {
      const { createdAt, id } = decodeCursor(query.after);
      q = q.where((eb) =>
        eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]),
      );
    }
    const rows = await q.execute();
    const items = rows.slice(0, first).map(toResource);
    const last = items.at(-1);
    const cursors = items.map(resourceCursor);
    return { items, cursors, hasNextPage: rows.length > first, endCursor: last ? resourceCursor(last) : null };
  }

  /** JSON merge-patch the metadata (null deletes a key). */
  async updateMetadata(actor: Actor, id: string, patch: unknown): Promise<Resource> {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new SlipwayError('VALIDATION_FAILED', 'metadata: must be a JSON object', {
        details: { field: 'metadata' },
      });
    }
    return this.#d.db.transaction().execute(async (trx) => {
      const row = await this.#visible(trx, actor, id, true);
      const merged = mergePatch(row.metadata, patch as Record<string, unknown>);
      const size = Buffer.byteLength(JSON.stringify(merged));
      if (size > this.#d.policy.maxMetadataBytes) {
        throw new SlipwayError(
          'VALIDATION_FAILED',
          `metadata: ${size} bytes exceeds ${this.#d.policy.maxMetadataBytes}`,
          {
            details: { field: 'metadata' },
          },
        );
      }
      const out = await trx
        .updateTable('resources')
        .set({ metadata: jsonb(merged), updated_at: this.#d.clock.now() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.#d.events.append(trx, {
        type: 'vm',
        action: 'resource.metadata_updated',
        actorId: actor.id,
        ownerId: row.owner_id,
        resourceId: id,
        data: { keys: Object.keys(patch) },
      });
      return toResource(out);
    });
  }

  async #prepare(raw: unknown): Promise<Prepared> {
    const input = parseOrThrow(CreateResourceInputSchema, raw);
    if (!this.#d.registry.has(input.provisioner)) {
      throw new SlipwayError('UNKNOWN_PROVISIONER', `no provisioner named ${input.provisioner}`, {
        details: { field: 'provisioner', name: input.provisioner },
      });
    }
    const runtime = this.#d.registry.get(input.provisioner);
    const options = runtime.parseOptions(input.options);
    const now = this.#d.clock.now();
    if (input.ttlSeconds !== undefined && input.expiresAt !== undefined) {
      throw new SlipwayError('VALIDATION_FAILED', 'expiresAt: give either ttlSeconds or expiresAt', {
        details: { field: 'expiresAt' },
      });
    }
    if (input.expiresAt !== undefined && input.expiresAt.getTime() <= now.getTime()) {
      throw new SlipwayError('VALIDATION_FAILED', 'expiresAt: must be in the future', {
        details: { field: 'expiresAt' },
      });
    }
    const expiresAt =
      input.expiresAt ?? (input.ttlSeconds !== undefined ? new Date(now.getTime() + input.ttlSeconds * 1000) : null);
    const price = await this.#d.pricer.quote(runtime, input.spec, options);
    const params = {
      name: input.name,
      provisioner: input.provisioner,
      kind: input.kind,
      spec: input.spec,
      options,
      labels: input.labels,
      metadata: input.metadata,
      ttlSeconds: input.ttlSeconds ?? null,
      expiresAt: input.expiresAt?.toISOString() ?? null,
    };
    return { input, runtime, options, spec: input.spec, price, expiresAt, params };
  }

  /** A create whose (owner, requestId) exists: same parameters → same answer; else a typed error. */
  #answerRetry(row: ResourceRow, params: Record<string, unknown>): Resource {
    const stored = row.request_params;
    const fields = Object.keys({ ...stored, ...params }).filter(
      (k) => canonicalJson(stored[k] ?? null) !== canonicalJson(params[k] ?? null),
    );
    if (fields.length > 0) {
      throw new SlipwayError(
        'IDEMPOTENCY_MISMATCH',
        `requestId ${row.request_id} was used with different ${fields.join(', ')}`,
        { details: { fields, requestId: row.request_id, resourceId: row.id } },
      );
    }
    if (row.status === 'PROVISIONING') {
      throw new SlipwayError('REQUEST_IN_PROGRESS', `request ${row.request_id} is still being provisioned`, {
        details: { requestId: row.request_id, resourceId: row.id },
      });
    }
    if (row.status === 'FAILED') throw storedFailure(row);
    return toResource(row);
  }

  async #byRequestId(db: Executor, ownerId: string, requestId: string): Promise<ResourceRow | undefined> {
    return db
      .selectFrom('resources')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .where('request_id', '=', requestId)
      .executeTakeFirst();
  }

  /** The row if `actor` may see it (owner or admin); NOT_FOUND otherwise, never FORBIDDEN. */
  async #visible(db: Executor, actor: Actor, id: string, forUpdate = false): Promise<ResourceRow> {
    if (!UUID.test(id)) throw notFound('resource', id);
    let q = db.selectFrom('resources').selectAll().where('id', '=', id);
    if (!isAdmin(actor)) q = q.where('owner_id', '=', actor.id);
    const row = await (forUpdate ? q.forUpdate() : q).executeTakeFirst();
    if (!row) throw notFound('resource', id);
    return row;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The opaque keyset cursor of a resource in `list` order. */
export function resourceCursor(r: Resource): string {
  return Buffer.from(`${r.createdAt.toISOString()}|${r.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || !UUID.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new SlipwayError('VALIDATION_FAILED', 'after: not a cursor from this API', { details: { field: 'after' } });
  }
  return { createdAt, id };
}

/** The typed error a failed allocation left on its resource (the same for every retry). */
function storedFailure(row: ResourceRow): SlipwayError {
  const code = (row.error_code && row.error_code in ERROR_CODES ? row.error_code : 'PROVISIONER_FAILED') as ErrorCode;
  return new SlipwayError(code, row.error ?? 'allocation failed', {
    details: { resourceId: row.id, requestId: row.request_id },
  });
}
