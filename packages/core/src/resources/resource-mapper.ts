import type { Selectable } from 'kysely';
import type { Resource } from '../domain.js';
import type { EventService } from '../events/event-service.js';
import type { StoredEventSink } from '../events/event-sinks.js';
import type { Allocation } from '../provisioner/provisioner.js';
import type { ResourcesTable } from '../storage/schema.js';
import { toOperation, toOutcome } from './operations/operation-records.js';

export type ResourceRow = Selectable<ResourcesTable>;

/**
 * Every column of `resources`. Named statements list them and never say `*`: a column
 * added by a newer replica's migration would change a `*` statement's result type, and
 * PostgreSQL refuses to run a prepared statement whose result type changed.
 */
export const RESOURCE_COLUMNS = [
  'id',
  'owner_id',
  'name',
  'kind',
  'provisioner',
  'host',
  'spec',
  'options',
  'status',
  'external_id',
  'ip',
  'ssh_port',
  'cockpit_url',
  'allocation_data',
  'metadata',
  'labels',
  'expires_at',
  'cost',
  'request_id',
  'request_params',
  'reservation_id',
  'error',
  'error_code',
  'operation',
  'last_operation',
  'pending_spec',
  'resize_delta',
  'resize_reservation_id',
  'devices',
  'created_at',
  'updated_at',
  'released_at',
] as const satisfies readonly (keyof ResourcesTable)[];

/** A compile error here means RESOURCE_COLUMNS misses a column of ResourcesTable. */
const allColumnsListed: [Exclude<keyof ResourcesTable, (typeof RESOURCE_COLUMNS)[number]>] extends [never]
  ? true
  : false = true;
void allColumnsListed;

/** The column list of named statements that return whole resource rows. */
export const RESOURCE_COLUMN_LIST = RESOURCE_COLUMNS.join(', ');

export function toResource(r: ResourceRow): Resource {
  return {
    id: r.id,
    ownerId: r.owner_id,
    name: r.name,
    kind: r.kind,
    provisioner: r.provisioner,
    host: r.host,
    spec: r.spec,
    options: r.options,
    status: r.status,
    externalId: r.external_id,
    ip: r.ip,
    sshPort: r.ssh_port,
    cockpitUrl: r.cockpit_url,
    metadata: r.metadata,
    labels: r.labels,
    expiresAt: r.expires_at,
    cost: r.cost,
    requestId: r.request_id,
    reservationId: r.reservation_id,
    error: r.error,
    operation: r.operation ? toOperation(r.operation) : null,
    lastOperation: r.last_operation ? toOutcome(r.last_operation) : null,
    pendingSpec: r.pending_spec,
    devices: r.devices,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    releasedAt: r.released_at,
  };
}

/** The allocation a provisioner returned, rebuilt from the stored row for release/status. */
export function toAllocation(r: ResourceRow): Allocation {
  return {
    resourceId: r.id,
    externalId: r.external_id ?? '',
    ip: r.ip,
    sshPort: r.ssh_port,
    cockpitUrl: r.cockpit_url,
    ...(r.allocation_data ? { data: r.allocation_data } : {}),
  };
}

/** Events a provisioner emits while working on `row` are stored against the resource. */
export const resourceSink = (
  eventService: EventService,
  row: Pick<ResourceRow, 'id' | 'owner_id' | 'provisioner'>,
): StoredEventSink => eventService.resourceSink({ id: row.id, ownerId: row.owner_id, provisioner: row.provisioner });

/** RFC 7386 JSON merge patch: objects merge recursively, `null` deletes a key. */
export function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isPlainObject(value) && isPlainObject(out[key])) {
      out[key] = mergePatch(out[key] as Record<string, unknown>, value);
    } else if (isPlainObject(value)) out[key] = mergePatch({}, value);
    else out[key] = value;
  }
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Stable JSON (sorted keys) for comparing request parameters. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
