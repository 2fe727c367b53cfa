/**
 * A host-placed test provisioner ("box"): one instance per replica, each posing as its own
 * host. Its machines live in a map the test owns (they outlive a replica, like VMs outlive
 * their server), and every call is logged with the host that made it, so a test can tell
 * which replica did what.
 */
import { defineProvisioner, type HostDescriptor, type Provisioner, SlipwayError } from '../../src/index.js';

export interface HostCall {
  op: 'allocate' | 'release' | 'status';
  resourceId: string;
  /** The host of the replica whose provisioner made the call. */
  host: string;
}

/** What exists, per host: resource id → running. Shared between a host's replica and its successor. */
export type HostMachines = Map<string, Set<string>>;

export interface BoxOptions {
  /** The host's name. */
  name: string;
  /** The provisioner's name. Default 'box'. */
  provisioner?: string;
  /** Allocations of these resource names build half a machine, then fail (not retryable). */
  failing?: ReadonlySet<string>;
  /** Each allocation calls this once it has built its machine, and returns when it resolves. */
  beforeReturn?: () => Promise<void>;
  capacity?: HostDescriptor['capacity'];
  calls: HostCall[];
  machines: HostMachines;
}

export const BOX_CAPACITY = { vcpu: 4, memoryMb: 4096, diskGb: 100 };

export function boxProvisioner(o: BoxOptions): Provisioner {
  const mine = (): Set<string> => {
    const set = o.machines.get(o.name) ?? new Set<string>();
    o.machines.set(o.name, set);
    return set;
  };
  const log = (op: HostCall['op'], resourceId: string) => o.calls.push({ op, resourceId, host: o.name });
  return defineProvisioner({
    name: o.provisioner ?? 'box',
    isDemo: true,
    host: { name: o.name, capacity: o.capacity ?? BOX_CAPACITY },
    async allocate(req) {
      log('allocate', req.resourceId);
      mine().add(req.resourceId);
      if (o.failing?.has(req.name)) throw new SlipwayError('PROVISIONER_FAILED', 'disk image went bad');
      await o.beforeReturn?.();
      return { resourceId: req.resourceId, externalId: `${o.name}/${req.resourceId}` };
    },
    async release(allocation) {
      log('release', allocation.resourceId);
      mine().delete(allocation.resourceId);
    },
    async status(allocation) {
      log('status', allocation.resourceId);
      return { state: mine().has(allocation.resourceId) ? 'running' : 'gone' };
    },
  });
}
