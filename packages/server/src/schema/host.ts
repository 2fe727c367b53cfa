/** Hosts of host-placed provisioners (admin): capacity, what their resources use, liveness. */
import type { HostCapacity, HostInfo, HostUsage } from '@slipway/core';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { typed } from '../errors/typed-errors.js';

const HostStateEnum = builder.enumType('HostState', {
  values: {
    UP: { value: 'UP' as const, description: 'Its replica heartbeats; new resources may be placed on it.' },
    STOPPED: {
      value: 'STOPPED' as const,
      description: 'Its replica stopped cleanly; becomes STALE unless a replica serves it again in time.',
    },
    STALE: {
      value: 'STALE' as const,
      description: 'No heartbeat within the stale time-out: its running resources are UNKNOWN until it returns.',
    },
  },
});

const HostCapacityType = builder.objectRef<HostCapacity>('HostCapacity').implement({
  fields: (t) => ({
    vcpu: t.exposeFloat('vcpu'),
    memoryMb: t.exposeInt('memoryMb'),
    diskGb: t.exposeInt('diskGb'),
  }),
});

const HostUsageType = builder.objectRef<HostUsage>('HostUsage').implement({
  description: 'The specs of the host’s live (not yet released or failed) resources, added up.',
  fields: (t) => ({
    vcpu: t.exposeFloat('vcpu'),
    memoryMb: t.exposeInt('memoryMb'),
    diskGb: t.exposeInt('diskGb'),
    resources: t.exposeInt('resources', { description: 'How many live resources the host holds.' }),
  }),
});

const HostType = builder.objectRef<HostInfo>('Host').implement({
  description: 'A machine a server replica registered for a host-placed provisioner (see docs/hosts.md).',
  fields: (t) => ({
    name: t.exposeString('name'),
    provisioner: t.exposeString('provisioner'),
    capacity: t.field({ type: HostCapacityType, resolve: (h) => h.capacity }),
    used: t.field({ type: HostUsageType, resolve: (h) => h.used }),
    replicaId: t.exposeString('replicaId', { description: 'The replica serving it (or that served it last).' }),
    startedAt: t.field({ type: 'DateTime', resolve: (h) => h.startedAt }),
    heartbeatAt: t.field({ type: 'DateTime', resolve: (h) => h.heartbeatAt }),
    state: t.field({ type: HostStateEnum, resolve: (h) => h.state }),
  }),
});

builder.queryFields((t) => ({
  hosts: t.field({
    type: [HostType],
    description: 'Admin: every registered host, by name, with capacity, use and heartbeat.',
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => typed(() => ctx.slipway.hosts.list(actorOf(ctx))),
  }),
}));
