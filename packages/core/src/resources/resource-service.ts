/**
 * The request side of the resource lifecycle: what a user (or the server on their behalf)
 * asks for. Each flow lives in its own module (create-flow, release-flow, refresh-flow);
 * the background work is enqueued through `ResourceJobs` and done by the job handlers
 * (resource-workflows.ts). No transaction is ever held open across a provisioner call, and
 * every state change writes an event in its transaction.
 */
import type { Kysely } from 'kysely';
import type { Actor, CreateResourceInput, MetadataPatch, Resource } from '../domain.js';
import { SlipwayError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import type { EventService } from '../events/event-service.js';
import type { LocalHosts } from '../hosts/local-hosts.js';
import type { CreditLedger } from '../ledger/ledger.js';
import { assertStorableInput } from '../limits/input-policy.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { AttachDeviceInput, PowerAction, ResizeInput, ResourceAction } from '../operation-domain.js';
import type { Pricer } from '../pricing/pricer.js';
import type { Clock } from '../provisioner/provisioner.js';
import type { ProvisionerRegistry } from '../provisioner/registry.js';
import { jsonb } from '../storage/executor.js';
import type { SlipwayDatabase } from '../storage/schema.js';
import type { WaitOptions } from './await-settled.js';
import { createResource, type Quote, quoteResource } from './create-flow.js';
import type { ResourceJobs } from './jobs/resource-jobs.js';
import { allowedActions } from './operations/allowed-actions.js';
import { actOn, attachDevice, detachDevice, resize, revertResize } from './operations/operation-flows.js';
import { actionContext } from './operations/operation-request.js';
import { refreshResource } from './refresh-flow.js';
import { releaseResource } from './release-flow.js';
import { mergePatch, toResource } from './resource-mapper.js';
import type { ResourcePolicy } from './resource-policy.js';
import {
  type ListResourcesQuery,
  listVisibleResources,
  type ResourcePage,
  visibleResource,
  visibleResourcesByIds,
} from './resource-repository.js';

export type { WaitOptions } from './await-settled.js';
export type { Quote } from './create-flow.js';
export { DEFAULT_RESOURCE_POLICY, type ResourcePolicy } from './resource-policy.js';
export { type ListResourcesQuery, type ResourcePage, resourceCursor } from './resource-repository.js';

export interface ResourceServiceDeps {
  db: Kysely<SlipwayDatabase>;
  registry: ProvisionerRegistry;
  ledger: CreditLedger;
  /** Appends inside the flows' transactions. */
  events: EventLog;
  /** Sinks for what provisioners emit. */
  eventService: EventService;
  pricer: Pricer;
  clock: Clock;
  policy: ResourcePolicy;
  limiter: RateLimiter;
  /** Where background work goes; the service never sees the job runner. */
  jobs: ResourceJobs;
  /** Placement reads host staleness; refresh acts only for resources on this replica's hosts. */
  hosts: LocalHosts;
}

export class ResourceService {
  readonly #d: ResourceServiceDeps;

  constructor(deps: ResourceServiceDeps) {
    this.#d = deps;
  }

  /** Price a request and say whether it would be admitted now; writes nothing. */
  quote(actor: Actor, input: CreateResourceInput): Promise<Quote> {
    return quoteResource(this.#d, actor, input);
  }

  /**
   * Create a resource for `actor`. Credits are held now and charged only when the
   * allocation succeeds. With `wait` (the default) the answer is the settled resource, or
   * the allocation's typed error; without it, the resource in PROVISIONING. The input is
   * validated at run time too (VALIDATION_FAILED names the field).
   */
  create(actor: Actor, input: CreateResourceInput, opts: WaitOptions = {}): Promise<Resource> {
    return createResource(this.#d, actor, input, opts);
  }

  /**
   * Release the machine: mark RELEASING and enqueue the release job (retried until the
   * provisioner confirms). Releasing something already released answers it as it is.
   */
  release(actor: Actor, id: string, opts: WaitOptions = {}): Promise<Resource> {
    return releaseResource(this.#d, actor, id, opts);
  }

  /** Ask the provisioner what the machine is doing and store it. */
  refresh(actor: Actor, id: string, opts: { signal?: AbortSignal } = {}): Promise<Resource> {
    return refreshResource(this.#d, actor, id, opts);
  }

  /**
   * Power: START, STOP, RESTART, RESET_HARD, RESET_SOFT, run as a durable job. Refused with
   * NOT_SUPPORTED (the provisioner cannot), CONFLICT (another operation is in flight) or
   * INVALID_STATE before anything is written. With `wait` (the default) the answer is the
   * resource after the job, or the job's typed error; without it, the resource with `operation` set.
   */
  act(actor: Actor, id: string, action: PowerAction, opts: WaitOptions = {}): Promise<Resource> {
    return actOn(this.#d, actor, id, action, opts);
  }

  /**
   * Change vCPU/memory, applied at the next boot (`pendingSpec` until then). A bigger size
   * holds the price difference now (INSUFFICIENT_CREDITS otherwise, nothing written) and
   * charges it when applied; a smaller one refunds the difference then, never more than was charged.
   */
  resize(actor: Actor, id: string, input: ResizeInput, opts: WaitOptions = {}): Promise<Resource> {
    return resize(this.#d, actor, id, input, opts);
  }

  /** Drop the pending resize at the provisioner and release its hold. */
  revertResize(actor: Actor, id: string, opts: WaitOptions = {}): Promise<Resource> {
    return revertResize(this.#d, actor, id, opts);
  }

  /** Hot-plug a disk (`sizeGb` required) or NIC; its id is generated when not given. */
  attachDevice(actor: Actor, id: string, device: AttachDeviceInput, opts: WaitOptions = {}): Promise<Resource> {
    return attachDevice(this.#d, actor, id, device, opts);
  }

  /** Unplug a device; one the guest has not acknowledged stays DETACHING until it does or the machine reboots. */
  detachDevice(actor: Actor, id: string, deviceId: string, opts: WaitOptions = {}): Promise<Resource> {
    return detachDevice(this.#d, actor, id, deviceId, opts);
  }

  /** What `resource` allows now (its status, its provisioner's capabilities, an operation in flight, ...). */
  allowedActions(resource: Resource): ResourceAction[] {
    return allowedActions(
      actionContext(this.#d.registry, {
        status: resource.status,
        provisioner: resource.provisioner,
        operation: resource.operation,
        pending_spec: resource.pendingSpec,
        devices: resource.devices,
      }),
    );
  }

  async get(actor: Actor, id: string): Promise<Resource> {
    return toResource(await visibleResource(this.#d.db, actor, id));
  }

  /** The resources of `ids` that `actor` may see, in no particular order; unknown ids are left out. */
  async getMany(actor: Actor, ids: readonly string[]): Promise<Resource[]> {
    return (await visibleResourcesByIds(this.#d.db, actor, ids)).map(toResource);
  }

  async list(actor: Actor, query: ListResourcesQuery = {}): Promise<ResourcePage> {
    assertStorableInput(query, 'filter');
    return listVisibleResources(this.#d.db, actor, query);
  }

  /** JSON merge-patch the metadata (null deletes a key); checked at run time as well. */
  async updateMetadata(actor: Actor, id: string, patch: MetadataPatch): Promise<Resource> {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new SlipwayError('VALIDATION_FAILED', 'metadata: must be a JSON object', {
        details: { field: 'metadata' },
      });
    }
    assertStorableInput(patch, 'metadata');
    const { db, policy, events, clock } = this.#d;
    return db.transaction().execute(async (trx) => {
      const row = await visibleResource(trx, actor, id, true);
      const merged = mergePatch(row.metadata, patch);
      const size = Buffer.byteLength(JSON.stringify(merged));
      if (size > policy.maxMetadataBytes) {
        throw new SlipwayError('VALIDATION_FAILED', `metadata: ${size} bytes exceeds ${policy.maxMetadataBytes}`, {
          details: { field: 'metadata' },
        });
      }
      const out = await trx
        .updateTable('resources')
        .set({ metadata: jsonb(merged), updated_at: clock.now() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await events.append(trx, {
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
}
