/**
 * The demo provisioner's power, reconfigure and hotplug: its "machines" keep a power state,
 * the size they boot with, a size for the next boot and their devices, in its store, so the
 * operations API can be tried (and tested) without QEMU. Each change is a compare-and-set,
 * so concurrent calls (a retried job beside a late one) never lose a write; each is
 * idempotent, as the core expects of a retried operation.
 */
import { SlipwayError } from '../errors.js';
import type { DetachResult, HotplugDevice, PowerResult, ReconfigureChange, ReconfigureResult } from './capabilities.js';
import type { Allocation, ProvisionContext } from './provisioner.js';
import type { ProvisionerStore } from './provisioner-store.js';

export interface DemoSize {
  vcpu: number;
  memoryMb: number;
}

export interface DemoMachine {
  allocation: Allocation;
  released: boolean;
  /** Absent on machines stored before the demo had power control: running. */
  power?: 'running' | 'stopped';
  size?: DemoSize;
  /** Applied at the next boot (start, restart, reset). */
  nextSize?: DemoSize;
  devices?: { id: string; type: HotplugDevice['type']; detaching?: boolean }[];
}

export interface DemoOpsOptions {
  /** Detaches answer `pending` (the guest has not acknowledged); the next boot completes them. */
  detachPending?: boolean;
}

export const machineKey = (resourceId: string) => `machine/${resourceId}`;

type StoreOf = (ctx: ProvisionContext) => ProvisionerStore;

/** Read-modify-write one machine with compare-and-set; NOT_FOUND-like failure when it is gone. */
async function update<R>(
  store: ProvisionerStore,
  resourceId: string,
  change: (m: DemoMachine) => { next: DemoMachine; result: R },
): Promise<R> {
  for (;;) {
    const entry = await store.get<DemoMachine>(machineKey(resourceId));
    if (!entry || entry.value.released)
      throw new SlipwayError('NOT_FOUND', `demo machine of ${resourceId} does not exist`);
    const { next, result } = change(entry.value);
    if (await store.compareAndSet(machineKey(resourceId), entry.version, next)) return result;
  }
}

/** A boot: the next size becomes the size, and detaches the guest never acknowledged complete. */
function boot(m: DemoMachine): { next: DemoMachine; result: PowerResult } {
  const size = m.nextSize ?? m.size;
  const { nextSize: _applied, ...rest } = m;
  const next: DemoMachine = {
    ...rest,
    power: 'running',
    ...(size ? { size } : {}),
    devices: (m.devices ?? []).filter((d) => !d.detaching),
  };
  return { next, result: size ? { running: size } : {} };
}

export function demoMachineOps(storeOf: StoreOf, options: DemoOpsOptions) {
  const run = <R>(
    a: Allocation,
    ctx: ProvisionContext,
    change: (m: DemoMachine) => { next: DemoMachine; result: R },
  ) => {
    ctx.signal.throwIfAborted();
    return update(storeOf(ctx), a.resourceId, change);
  };
  return {
    start: (a: Allocation, ctx: ProvisionContext): Promise<PowerResult> =>
      run(a, ctx, (m) => (m.power === 'stopped' ? boot(m) : { next: m, result: m.size ? { running: m.size } : {} })),
    stop: (a: Allocation, ctx: ProvisionContext): Promise<void> =>
      run(a, ctx, (m) => ({ next: { ...m, power: 'stopped' }, result: undefined })),
    restart: (a: Allocation, ctx: ProvisionContext): Promise<PowerResult> => run(a, ctx, boot),
    reset: (a: Allocation, _mode: 'hard' | 'soft', ctx: ProvisionContext): Promise<PowerResult> => run(a, ctx, boot),
    reconfigure: (a: Allocation, change: ReconfigureChange, ctx: ProvisionContext): Promise<ReconfigureResult> =>
      run(a, ctx, (m) => {
        const current = m.size ?? { vcpu: change.vcpu ?? 1, memoryMb: change.memoryMb ?? 512 };
        const wanted = { vcpu: change.vcpu ?? current.vcpu, memoryMb: change.memoryMb ?? current.memoryMb };
        const same = wanted.vcpu === current.vcpu && wanted.memoryMb === current.memoryMb;
        const { nextSize: _dropped, ...rest } = m;
        // A change equal to the size it runs with drops a pending one (a revert).
        return { next: same ? rest : { ...rest, nextSize: wanted }, result: { appliedAt: 'next-boot' } };
      }),
    attach: (a: Allocation, device: HotplugDevice, ctx: ProvisionContext): Promise<void> =>
      run(a, ctx, (m) => {
        const devices = m.devices ?? [];
        if (devices.some((d) => d.id === device.id)) return { next: m, result: undefined }; // a retry
        if (m.power === 'stopped') throw new SlipwayError('INVALID_STATE', 'demo machine is stopped');
        return { next: { ...m, devices: [...devices, { id: device.id, type: device.type }] }, result: undefined };
      }),
    detach: (a: Allocation, deviceId: string, ctx: ProvisionContext): Promise<DetachResult> =>
      run<DetachResult>(a, ctx, (m) => {
        const devices = m.devices ?? [];
        if (!devices.some((d) => d.id === deviceId)) return { next: m, result: { state: 'detached' } };
        if (options.detachPending) {
          const marked = devices.map((d) => (d.id === deviceId ? { ...d, detaching: true } : d));
          return { next: { ...m, devices: marked }, result: { state: 'pending' } };
        }
        return { next: { ...m, devices: devices.filter((d) => d.id !== deviceId) }, result: { state: 'detached' } };
      }),
  };
}
