/**
 * Admin operations on a pool provisioner, shared by the GraphQL fields and the
 * `POST /admin/pool-refresh` route. Every plugin call goes through the core's runtime
 * wrapper (time-out, abort, error wrapping, logging); what the plugin emits is stored as
 * admin events, attributed to the caller.
 */
import {
  type Actor,
  isSlipwayError,
  type Logger,
  type PoolRefreshResult,
  type ResourceStatus,
  type RuntimeProvisioner,
  type Slipway,
  SlipwayError,
  type StoredEventSink,
} from '@slipway/core';
import { type PoolMachineView, poolAllocations as readPoolMachines } from '@slipway/provisioner-pool';

/** The name the pool provisioner registers under unless configured otherwise. */
export const DEFAULT_POOL_PROVISIONER = 'pool';

const ALLOCATIONS_TIMEOUT_MS = 30_000;

/** What the admin operations need; a GraphQL context has both. */
export interface AdminDeps {
  readonly slipway: Slipway;
  readonly logger: Logger;
}

export interface AdminCaller {
  /** The admin's account id; null for the secret-gated HTTP route. */
  readonly actorId: string | null;
  /** How the operation was asked for, recorded in the event data. */
  readonly via: 'graphql' | 'http';
}

/**
 * Re-read the pool source and swap it in (the PoolRefresh capability). A bad source throws
 * VALIDATION_FAILED with `details.problems` and leaves the pool as it was; an unknown
 * provisioner or one without the capability throws NOT_FOUND.
 */
export async function refreshPool(
  deps: AdminDeps,
  provisioner: string,
  caller: AdminCaller,
): Promise<PoolRefreshResult> {
  const runtime = runtimeOf(deps.slipway, provisioner);
  if (!runtime.has('refresh')) {
    throw new SlipwayError('NOT_FOUND', `provisioner ${provisioner} has no pool to refresh`, {
      details: { field: 'provisioner' },
    });
  }
  const events = adminEvents(deps, provisioner, caller);
  try {
    const result = await runtime.refresh({ events });
    // The pool plugin reports its own `pool.refreshed`; any other PoolRefresh plugin gets one here.
    if (!events.emitted.has('pool.refreshed')) events.emit({ action: 'pool.refreshed', data: { ...result } });
    return result;
  } catch (error) {
    const code = isSlipwayError(error) ? error.code : 'INTERNAL';
    const problems = isSlipwayError(error) ? problemsOf(error.details) : null;
    events.emit({
      action: 'pool.refresh_failed',
      severity: 'warning',
      data: {
        code,
        message: error instanceof Error ? error.message : String(error),
        ...(problems ? { problems } : {}),
      },
    });
    throw error;
  } finally {
    await events.flush();
  }
}

/** A pool machine with its holder, and what the holder's resource costs (from the core's row). */
export interface PoolAllocation extends PoolMachineView {
  /** Credits of the holder's resource (held while provisioning, charged once allocated); null when free. */
  readonly cost: number | null;
  readonly resourceStatus: ResourceStatus | null;
}

/** Every machine of the pool with its holder, ordered by machine id. */
export async function poolAllocations(
  deps: AdminDeps,
  provisioner: string,
  caller: AdminCaller,
): Promise<PoolAllocation[]> {
  const machines = await poolMachines(deps, provisioner, caller);
  const ids = machines.flatMap((m) => (m.resourceId ? [m.resourceId] : []));
  const holders = ids.length === 0 ? [] : await deps.slipway.resources.getMany(adminActor(caller), ids);
  const byId = new Map(holders.map((r) => [r.id, r]));
  return machines.map((m) => {
    const holder = m.resourceId ? byId.get(m.resourceId) : undefined;
    return {
      ...m,
      // The machine record knows its holder; the core's resource is the fallback for older records.
      ownerId: m.ownerId ?? holder?.ownerId ?? null,
      cost: holder?.cost ?? null,
      resourceStatus: holder?.status ?? null,
    };
  });
}

/** Admin operations see every resource; the secret-gated HTTP route acts as an admin without an account. */
const adminActor = (caller: AdminCaller): Actor => ({ id: caller.actorId ?? 'admin-secret', role: 'admin' });

/** Every machine of the pool with its holder, as the pool plugin reports it. */
export async function poolMachines(
  deps: AdminDeps,
  provisioner: string,
  caller: AdminCaller,
): Promise<PoolMachineView[]> {
  const runtime = runtimeOf(deps.slipway, provisioner);
  // A pool is what can refresh; its machines are read from its own store through the runtime.
  if (!runtime.has('refresh')) {
    throw new SlipwayError('NOT_FOUND', `provisioner ${provisioner} has no pool allocations to list`, {
      details: { field: 'provisioner' },
    });
  }
  const events = adminEvents(deps, provisioner, caller);
  try {
    const machines = await runtime.invoke(
      'allocations',
      { events },
      (pctx) => readPoolMachines(pctx.store),
      ALLOCATIONS_TIMEOUT_MS,
    );
    return [...machines].sort((a, b) => (a.machineId < b.machineId ? -1 : a.machineId > b.machineId ? 1 : 0));
  } finally {
    await events.flush();
  }
}

/** The `details.problems` of a refused pool, if any. */
export function problemsOf(details: Readonly<Record<string, unknown>>): string[] | null {
  const problems = details.problems;
  return Array.isArray(problems) ? problems.map(String) : null;
}

/** An unknown provisioner is NOT_FOUND here (the core's registry would say UNKNOWN_PROVISIONER). */
function runtimeOf(slipway: Slipway, provisioner: string): RuntimeProvisioner {
  if (!slipway.registry.has(provisioner)) {
    throw new SlipwayError('NOT_FOUND', `no provisioner named ${provisioner}`, { details: { field: 'provisioner' } });
  }
  return slipway.registry.get(provisioner);
}

/** Provisioner events of an admin operation, stored as `admin` events of the caller. */
function adminEvents({ slipway }: AdminDeps, provisioner: string, caller: AdminCaller): StoredEventSink {
  return slipway.eventService.adminSink({ actorId: caller.actorId, data: { provisioner, via: caller.via } });
}
