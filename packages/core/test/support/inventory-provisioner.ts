/**
 * A cloud-like test provisioner with `inventory`: its machines live in a map the test owns, so
 * a test can plant machines nobody asked for, make one vanish, hide one from the listing, make
 * releases leak (succeed without deleting), or make the listing fail or wait.
 */
import { type AllocationStatusState, defineProvisioner, type Provisioner } from '../../src/index.js';

export interface CloudMachine {
  externalId: string;
  resourceId?: string;
  state: AllocationStatusState;
}

export interface Cloud {
  machines: Map<string, CloudMachine>;
  /** Listed by nobody, though they exist (a provider's lagging list). */
  hidden: Set<string>;
  /** Releases succeed but delete nothing. */
  leaky: boolean;
  /** The next listings throw this. */
  failInventory: Error | null;
  /** Each listing waits for this, when set. */
  gate: Promise<void> | null;
  /** When set, allocations adopt (or build) this untagged machine (a provider without tags). */
  untaggedAs: string | null;
  inventoryCalls: number;
  releases: { resourceId: string; externalId: string }[];
}

export function newCloud(): Cloud {
  return {
    machines: new Map(),
    hidden: new Set(),
    leaky: false,
    failInventory: null,
    gate: null,
    untaggedAs: null,
    inventoryCalls: 0,
    releases: [],
  };
}

/** Put a machine at the provider that Slipway did not ask for (or lost track of). */
export function plant(cloud: Cloud, externalId: string, resourceId?: string): void {
  cloud.machines.set(externalId, { externalId, ...(resourceId ? { resourceId } : {}), state: 'running' });
}

export function cloudProvisioner(cloud: Cloud, name = 'cloud'): Provisioner {
  const byResource = (resourceId: string) => [...cloud.machines.values()].find((m) => m.resourceId === resourceId);
  return defineProvisioner({
    name,
    isDemo: true,
    async allocate(req) {
      if (cloud.untaggedAs) {
        cloud.machines.set(cloud.untaggedAs, { externalId: cloud.untaggedAs, state: 'running' });
        return { resourceId: req.resourceId, externalId: cloud.untaggedAs };
      }
      // Idempotent: a machine already built (and tagged) for the resource is returned.
      const machine = byResource(req.resourceId) ?? { externalId: `m-${req.resourceId}`, resourceId: req.resourceId };
      cloud.machines.set(machine.externalId, { ...machine, state: 'running' });
      return { resourceId: req.resourceId, externalId: machine.externalId };
    },
    async release(a) {
      cloud.releases.push({ resourceId: a.resourceId, externalId: a.externalId });
      if (cloud.leaky) return;
      const id = a.externalId || byResource(a.resourceId)?.externalId;
      if (id) cloud.machines.delete(id);
    },
    async status(a) {
      const machine = cloud.machines.get(a.externalId) ?? byResource(a.resourceId);
      return { state: machine?.state ?? 'gone' };
    },
    async inventory() {
      cloud.inventoryCalls += 1;
      if (cloud.gate) await cloud.gate;
      if (cloud.failInventory) throw cloud.failInventory;
      return [...cloud.machines.values()]
        .filter((m) => !cloud.hidden.has(m.externalId))
        .map((m) => ({ externalId: m.externalId, ...(m.resourceId ? { resourceId: m.resourceId } : {}) }));
    },
  });
}
